// A program on a Device (device.h): the LLVM backend's fusion plan (the
// same fusion rule, src/backend/llvm/kernel_spec.cpp), its kernels rendered
// as CUDA C once per program and loaded as one module, and every value's
// device buffer planned and allocated once, when the program is compiled
// (a call allocates nothing on the device: it uploads the inputs, launches
// the kernels, and downloads the outputs and the warning word).
//
// Steps that are not fused kernels (linear algebra, gathers, control flow)
// run on the host with the primitives' reference kernels: their operands
// are downloaded and their result uploaded. That keeps every program
// correct on the device; moving those steps to cuBLAS/cuSOLVER and loops
// onto the device is where the GPU's time goes next (inst/DESIGN-NOTES.md).
#include <algorithm>
#include <cstring>

#include "../../ir/scalar.h"
#include "../../runtime/interrupt.h"
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

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& inputs) override {
    const Graph& g = *graph;
    check_inputs(g, inputs);
    auto ins = g.inputs();
    for (size_t k = 0; k < ins.size(); ++k) dev->upload(at(ins[k]), inputs[k]->data, inputs[k]->nbytes());
    dev->zero(flags->p, 4);
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
    std::vector<BufferPtr> outs;
    for (int o : g.outputs) outs.push_back(g.nodes[o].value ? g.nodes[o].value : to_host(o));
    uint32_t w = 0;
    dev->download(&w, flags->p, 4);
    if (w) raise_warning(w);
    return outs;
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
    else if (!prim(n.prim).eval && !prim(n.prim).scalar)
      fail("internal", "primitive '" + prim(n.prim).name + "' has no kernel");
    e->hosts.push_back(std::move(hs));
  }
  e->tuples.resize(G.nodes.size());
  e->text = "; ---- fusion plan (" + dev.name() + ") ----\n" + print_plan(G, e->plan);
  return e;
}

}  // namespace cuda

ExecutablePtr compile_cuda(GraphPtr g) { return cuda::compile_on_device(std::move(g), cuda::gpu_device(), "cuda"); }
ExecutablePtr compile_cuda_shim(GraphPtr g) { return cuda::compile_on_device(std::move(g), cuda::shim_device(), "cuda-shim"); }

}  // namespace rj
