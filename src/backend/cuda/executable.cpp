// A program on a Device (device.h): the LLVM backend's fusion plan (the
// same fusion rule, src/backend/llvm/kernel_spec.cpp), its kernels rendered
// as CUDA C once per program and loaded as one module, and every value's
// device buffer planned and allocated once, when the program is compiled
// (a call allocates nothing on the device: it uploads the inputs, launches
// the kernels, and downloads the outputs and the warning word).
//
// Matrix products are one gemm on the device's BLAS (cuBLAS; the shim's
// plain loops). Other steps that are not fused kernels (factorisations,
// gathers, control flow) run on the host with the primitives' reference
// kernels: their operands are downloaded and their result uploaded. Collectives
// (psum, all_gather) run on the device buffers through NCCL when the MPI job
// has more ranks and every rank has NCCL (src/runtime/nccl.h), else on the
// host path like the other steps. That keeps every program
// correct on the device; moving those steps to cuBLAS/cuSOLVER and loops
// onto the device is where the GPU's time goes next (inst/DESIGN-NOTES.md).
#include <algorithm>
#include <functional>
#include <cstring>

#include "../../ir/scalar.h"
#include "../../runtime/interrupt.h"
#include "../../runtime/mpi.h"
#include "../../runtime/status.h"
#include "../../transforms/fusion.h"
#include "../control.h"
#include "device.h"

namespace rj {
namespace cuda {
namespace {

struct DevBuf {
  Device* dev = nullptr;
  void* p = nullptr;
  size_t bytes = 0;
  DevBuf(Device& d, size_t n) : dev(&d), p(d.alloc(n)), bytes(n) {}
  ~DevBuf() { dev->release(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
};

struct KernelStep {
  const FusedKernel* k = nullptr;
  KernelSpec spec;
  LaunchShape shape;
  void* main = nullptr;
  void* fin = nullptr;
  std::unique_ptr<DevBuf> part;
  std::vector<void*> ptrs;  // device pointers: inputs then outputs
  long long rows = 0, cols = 0, nchunk = 1;
  void* part_ptr = nullptr;
  void* flags_ptr = nullptr;
  std::vector<void*> args;  // pointers to the parameters (cuLaunchKernel's convention)
  std::vector<uint32_t> empty_warnings;
};

struct HostStep {
  int node = -1;
  bool gemm = false;  // a matrix product on the device's BLAS
  bool collective = false;  // psum / all_gather over the MPI job, on the device when it can (NCCL)
  std::unique_ptr<ControlRunner> control;
  bool tuple_get = false;
};

struct DeviceExecutable : Executable {
  Device* dev = nullptr;
  FusionPlan plan;
  std::shared_ptr<Module> module;
  std::vector<KernelStep> kernels;
  std::vector<HostStep> hosts;
  std::vector<std::unique_ptr<DevBuf>> buf;  // per node: its device buffer (nullptr: none)
  std::unique_ptr<DevBuf> flags;
  std::vector<std::vector<BufferPtr>> tuples;
  std::string text;

  std::string describe() const override { return text; }

  void* at(int v) const {
    if (!buf[v]) fail("internal", "cuda backend: value without a device buffer");
    return buf[v]->p;
  }
  BufferPtr to_host(int v) const {
    const Type& t = graph->type(v);
    BufferPtr b = make_buffer(t.dtype, t.shape);
    dev->download(b->data, at(v), b->nbytes());
    return b;
  }

  // matmul (attrs ints: ta, tb) as one gemm on device buffers.
  bool run_gemm(const Node& n, int v) {
    const Shape &s = graph->type(n.in[0]).shape, &t = graph->type(n.in[1]).shape;
    bool ta = !n.attrs.ints.empty() && n.attrs.ints[0], tb = n.attrs.ints.size() > 1 && n.attrs.ints[1];
    int64_t m = ta ? s[1] : s[0], k = ta ? s[0] : s[1], cols = tb ? t[0] : t[1];
    return dev->gemm(n.type.dtype, ta, tb, m, cols, k, at(n.in[0]), std::max<int64_t>(1, s[0]), at(n.in[1]),
                     std::max<int64_t>(1, t[0]), at(v), std::max<int64_t>(1, m));
  }

  // psum (and shard_map's sum) and an all_gather that is one contiguous
  // block per rank, as one collective on device buffers. False when the
  // device does not run collectives, or the program was traced for another
  // number of ranks (the host path then says so).
  bool run_collective(const Node& n, int v) {
    const Type& x = graph->type(n.in[0]);
    if (n.attrs.ints.empty() || n.attrs.ints[0] != mpi::size() || graph->nodes[n.in[0]].value) return false;
    const std::string& name = prim(n.prim).name;
    uint64_t sig = std::hash<std::string>()(name);
    for (int64_t i : n.attrs.ints) sig = sig * 1000003u ^ (uint64_t)i;
    if (name != "all_gather") return dev->allreduce_sum(x.dtype, at(n.in[0]), at(v), x.size(), sig);
    const int64_t dim = n.attrs.ints.size() > 1 ? n.attrs.ints[1] : 0;
    for (int64_t d = dim + 1; d < (int64_t)x.shape.size(); ++d)
      if (x.shape[d] != 1) return false;  // rank blocks interleave: the host path reorders them
    return dev->allgather(x.dtype, at(n.in[0]), at(v), x.size(), sig);
  }

  void upload_inputs(const std::vector<BufferPtr>& inputs) {
    check_inputs(*graph, inputs);
    auto ins = graph->inputs();
    for (size_t k = 0; k < ins.size(); ++k) dev->upload(at(ins[k]), inputs[k]->data, inputs[k]->nbytes());
  }

  // Every step once, on the device buffers.
  void execute() {
    const Graph& g = *graph;
    struct EndRun {
      DeviceExecutable& e;
      ~EndRun() {
        for (auto& t : e.tuples) t.clear();
      }
    } end_run{*this};
    size_t ki = 0, hi = 0;
    for (const Step& st : plan.steps) {
      check_interrupt();
      if (st.is_kernel) {
        KernelStep& ks = kernels[ki++];
        dev->launch(*module, ks.main, ks.shape.main, ks.args.data());
        if (ks.fin) dev->launch(*module, ks.fin, ks.shape.fin, ks.args.data());
        for (uint32_t w : ks.empty_warnings) raise_warning(w);
        continue;
      }
      HostStep& hs = hosts[hi++];
      const Node& n = g.nodes[hs.node];
      if (hs.gemm && run_gemm(n, hs.node)) continue;
      if (hs.collective && run_collective(n, hs.node)) continue;
      if (hs.tuple_get) {
        const BufferPtr& src = tuples[n.in[0]].at(n.attrs.ints[0]);
        dev->upload(at(hs.node), src->data, src->nbytes());
        continue;
      }
      std::vector<BufferPtr> args;
      for (int u : n.in) args.push_back(g.nodes[u].value ? g.nodes[u].value : to_host(u));
      if (hs.control) {
        tuples[hs.node] = hs.control->run(args);
        continue;
      }
      std::vector<const Buffer*> raw;
      for (auto& b : args) raw.push_back(b.get());
      BufferPtr out = make_buffer(n.type.dtype, n.type.shape);
      eval_prim(prim(n.prim), raw, *out, n.attrs);
      dev->upload(at(hs.node), out->data, out->nbytes());
    }
  }

  std::vector<BufferPtr> outputs_and_warnings() {
    const Graph& g = *graph;
    std::vector<BufferPtr> outs;
    for (int o : g.outputs) outs.push_back(g.nodes[o].value ? g.nodes[o].value : to_host(o));
    uint32_t w = 0;
    dev->download(&w, flags->p, 4);
    if (w) raise_warning(w);
    return outs;
  }

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& inputs) override {
    upload_inputs(inputs);
    dev->zero(flags->p, 4);
    execute();
    return outputs_and_warnings();
  }

  std::vector<BufferPtr> chain(const std::vector<BufferPtr>& inputs, int iters, const std::vector<std::pair<int, int>>& carry,
                               const std::vector<int>& record, std::vector<std::vector<double>>* recorded) {
    const Graph& g = *graph;
    auto ins = g.inputs();
    for (auto& c : carry) {
      if (c.first < 0 || c.first >= (int)g.outputs.size() || c.second < 0 || c.second >= (int)ins.size() ||
          !g.type(g.outputs[c.first]).same(g.type(ins[c.second])))
        fail("internal", "run_chain: a carry pairs values of different types");
    }
    upload_inputs(inputs);
    dev->zero(flags->p, 4);
    // Staging buffers: a carried output may itself be an input that another
    // carry overwrites (x, y -> y, x), so every carry goes through one.
    std::vector<std::unique_ptr<DevBuf>> stage;
    for (auto& c : carry) stage.push_back(std::make_unique<DevBuf>(*dev, buf[ins[c.second]]->bytes));
    if (recorded) recorded->assign(record.size(), {});
    for (int it = 0; it < iters; ++it) {
      execute();
      for (size_t r = 0; r < record.size(); ++r) {
        BufferPtr v = to_host(g.outputs.at(record[r]));
        (*recorded)[r].push_back(v->get(0));
      }
      if (it + 1 == iters) break;
      for (size_t k = 0; k < carry.size(); ++k) dev->copy(stage[k]->p, at(g.outputs[carry[k].first]), stage[k]->bytes);
      for (size_t k = 0; k < carry.size(); ++k) dev->copy(at(ins[carry[k].second]), stage[k]->p, stage[k]->bytes);
    }
    return outputs_and_warnings();
  }
};

void plan_kernel(DeviceExecutable& e, KernelStep& ks, int index) {
  const FusedKernel& K = *ks.k;
  ks.rows = K.dom.rows;
  ks.cols = K.dom.cols;
  ks.shape = launch_shape(ks.spec, ks.rows, ks.cols, e.dev->block(), e.dev->max_blocks());
  ks.nchunk = ks.shape.nchunk;
  size_t np = partial_size(ks.spec, ks.shape, ks.rows);
  if (np) ks.part = std::make_unique<DevBuf>(*e.dev, np * sizeof(double));
  ks.part_ptr = ks.part ? ks.part->p : nullptr;
  ks.flags_ptr = e.flags->p;
  for (int u : K.inputs) ks.ptrs.push_back(e.at(u));
  for (int o : K.outputs) ks.ptrs.push_back(e.at(o));
  for (void*& p : ks.ptrs) ks.args.push_back(&p);
  ks.args.push_back(&ks.rows);
  ks.args.push_back(&ks.cols);
  ks.args.push_back(&ks.part_ptr);
  ks.args.push_back(&ks.flags_ptr);
  ks.args.push_back(&ks.nchunk);
  std::string base = "rjk" + std::to_string(index);
  ks.main = e.module->function(base + "_main");
  if (ks.shape.has_fin) ks.fin = e.module->function(base + "_fin");
  for (const KOp& op : ks.spec.ops) {
    const PrimDef& p = prim(op.prim);
    if (!p.reduces || !p.monoid->empty_warning) continue;
    bool empty = K.red == RedKind::all ? ks.rows * ks.cols == 0 : K.red == RedKind::col ? ks.rows == 0 : ks.cols == 0;
    bool has_out = ks.rows * ks.cols > 0 || (K.red == RedKind::col ? ks.cols > 0 : K.red == RedKind::row ? ks.rows > 0 : true);
    if (empty && has_out) ks.empty_warnings.push_back(p.monoid->empty_warning);
  }
}

std::vector<KernelSpec> specs_of(const Graph& g, const FusionPlan& plan) {
  std::vector<KernelSpec> specs;
  for (const FusedKernel& K : plan.kernels) specs.push_back(make_spec(g, K));
  return specs;
}

}  // namespace

std::string render_program(const Graph& g) {
  FusionPlan plan = fuse(g, FusionRules{kernel_supports});
  return render_kernels(specs_of(g, plan), false);
}

ExecutablePtr compile_on_device(GraphPtr g, Device& dev, const std::string& backend) {
  auto e = std::make_shared<DeviceExecutable>();
  e->graph = g;
  e->backend = backend;
  e->dev = &dev;
  e->plan = fuse(*g, FusionRules{kernel_supports});
  std::vector<KernelSpec> specs = specs_of(*g, e->plan);
  std::string src = render_kernels(specs, dev.wants_shim_wrappers());
  if (!specs.empty()) e->module = dev.load(src);
  // Device buffers: every input and every value a step produces, once.
  const Graph& G = *g;
  e->buf.resize(G.nodes.size());
  auto need = [&](int v) {
    if (!e->buf[v] && !G.nodes[v].is_tuple())
      e->buf[v] = std::make_unique<DevBuf>(dev, (size_t)G.type(v).size() * dtype_size(G.type(v).dtype));
  };
  for (int v : G.inputs()) need(v);
  for (size_t v = 0; v < G.nodes.size(); ++v)
    if (G.nodes[v].value) {  // constants: uploaded once
      need((int)v);
      dev.upload(e->buf[v]->p, G.nodes[v].value->data, G.nodes[v].value->nbytes());
    }
  for (const Step& st : e->plan.steps) {
    if (st.is_kernel) {
      for (int u : e->plan.kernels[st.index].inputs) need(u);
      for (int o : e->plan.kernels[st.index].outputs) need(o);
    } else {
      for (int u : G.nodes[st.index].in) need(u);
      need(st.index);
    }
  }
  for (int o : G.outputs) need(o);
  e->flags = std::make_unique<DevBuf>(dev, 4);
  // Launch arguments point into each KernelStep: it must never move.
  e->kernels.reserve(e->plan.kernels.size());
  for (const Step& st : e->plan.steps) {
    if (st.is_kernel) {
      KernelStep ks;
      ks.k = &e->plan.kernels[st.index];
      ks.spec = specs[st.index];
      e->kernels.push_back(std::move(ks));
      plan_kernel(*e, e->kernels.back(), st.index);
      continue;
    }
    const Node& n = G.nodes[st.index];
    HostStep hs;
    hs.node = st.index;
    if (n.is_tuple()) hs.control = make_control_runner(n, backend);
    else if (n.prim == prim_id("tuple_get")) hs.tuple_get = true;
    else if (n.prim == prim_id("matmul") && is_float(n.type.dtype)) hs.gemm = true;
    else if (n.prim == prim_id("psum") || n.prim == prim_id("shard_sum_out") || n.prim == prim_id("all_gather"))
      hs.collective = true;
    else if (!prim(n.prim).eval && !prim(n.prim).scalar)
      fail("internal", "primitive '" + prim(n.prim).name + "' has no kernel");
    e->hosts.push_back(std::move(hs));
  }
  e->tuples.resize(G.nodes.size());
  e->text = "; ---- fusion plan (" + dev.name() + ") ----\n" + print_plan(G, e->plan);
  return e;
}

std::vector<BufferPtr> run_chain(Executable& e, const std::vector<BufferPtr>& inputs, int iters,
                                 const std::vector<std::pair<int, int>>& carry, const std::vector<int>& record,
                                 std::vector<std::vector<double>>* recorded) {
  auto* d = dynamic_cast<DeviceExecutable*>(&e);
  if (!d) fail("internal", "run_chain needs a program compiled for a CUDA device");
  return d->chain(inputs, iters, carry, record, recorded);
}

}  // namespace cuda

ExecutablePtr compile_cuda(GraphPtr g) { return cuda::compile_on_device(std::move(g), cuda::gpu_device(), "cuda"); }
ExecutablePtr compile_cuda_shim(GraphPtr g) { return cuda::compile_on_device(std::move(g), cuda::shim_device(), "cuda-shim"); }

}  // namespace rj
