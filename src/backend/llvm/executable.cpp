// The LLVM backend's executable: the program as a list of steps (fused
// kernels compiled by LLVM, and library calls to the primitives' reference
// kernels for linear algebra, gathers and the like), run back to back in
// C++, with every intermediate value at a fixed place in one arena planned
// at compile time (values whose lifetimes do not overlap share memory). A
// call allocates only its outputs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "../../ir/scalar.h"
#include "../../runtime/status.h"
#include "../../runtime/interrupt.h"
#include "../../runtime/memory.h"
#include "../../runtime/thread_pool.h"
#include "../../transforms/fusion.h"
#include "../backend.h"
#include "../control.h"
#include "../interp/tape.h"
#include "jit.h"
#include "kernel_spec.h"

namespace rj {
namespace {

constexpr int64_t kChunk = 1 << 14;        // elements per chunk: fixed, so results never depend on the thread count
constexpr int64_t kParallelMin = 1 << 17;  // smaller loops run on one thread (waking workers costs more)

// A Buffer header over memory owned elsewhere (the arena, an output), so
// that PrimDef::eval kernels run on planned memory.
struct View : Buffer {
  View(DType d, const Shape& s) : Buffer(d, Shape{0}) { shape = s; }
  ~View() { data = nullptr; }  // not ours to free
};

enum class Loc : uint8_t { none, input, constant, arena, output };
struct Slot {
  Loc loc = Loc::none;
  int64_t at = 0;  // input index, arena byte offset, or output index
};

struct KernelStep {
  const FusedKernel* k = nullptr;
  KernelSpec spec;
  KernelFn fn = nullptr;
  std::vector<void*> ptrs;
  bool by_rows = true;
  int64_t chunk = kChunk, n_chunks = 0;
  std::vector<double> partial;                  // n_chunks x n_red_all
  std::vector<std::vector<double>> row_acc;     // per output: accumulators of a row reduction
  // Per output that is a reduction: its monoid's merge and finish tapes
  // (the interpreter's renderer of the same descriptions the kernel uses).
  std::vector<TapePtr> merge, finish;
  std::vector<double> identity;
  std::vector<char> empty;                      // per output: the reduction covers no element
  std::vector<double> merge_scratch;
};

struct LibStep {
  int node = -1;
  std::vector<std::unique_ptr<View>> in_views;  // nullptr where the operand is an input or constant
  std::unique_ptr<View> out_view;
  std::vector<const Buffer*> args;
  std::unique_ptr<ControlRunner> control;  // tuple nodes (control flow)
  bool tuple_get = false;
};

struct LlvmExecutable : Executable {
  FusionPlan plan;
  std::vector<Slot> slot;
  std::vector<KernelStep> kernels;
  std::vector<LibStep> libs;
  std::vector<int> out_first;  // per graph output: index of its first occurrence
  // The arena exists only during a run: an idle compiled program holds no
  // memory for its intermediates (the block pool hands the same block back
  // to the next run, up to its cap).
  int64_t arena_bytes = 0;
  BufferPtr arena;
  std::vector<std::vector<BufferPtr>> tuples;  // per node: outputs of a tuple node during a run
  std::vector<std::shared_ptr<KernelModule>> modules;  // keep the compiled kernels alive
  std::string text;

  std::string describe() const override { return text; }

  void* where(int v, const std::vector<BufferPtr>& in, const std::vector<BufferPtr>& outs) const {
    const Slot& s = slot[v];
    switch (s.loc) {
      case Loc::input: return in[s.at]->data;
      case Loc::constant: return graph->nodes[v].value->data;
      case Loc::arena: return static_cast<char*>(arena->data) + s.at;
      case Loc::output: return outs[s.at]->data;
      default: fail("internal", "llvm backend: value without storage");
    }
  }

  const Buffer* buffer_of(int v, const std::vector<BufferPtr>& in, View* view, const std::vector<BufferPtr>& outs) const {
    const Slot& s = slot[v];
    if (s.loc == Loc::input) return in[s.at].get();
    if (s.loc == Loc::constant) return graph->nodes[v].value.get();
    view->data = where(v, in, outs);
    return view;
  }

  void run_kernel(KernelStep& ks, const std::vector<BufferPtr>& in, const std::vector<BufferPtr>& outs) {
    const FusedKernel& K = *ks.k;
    size_t ni = K.inputs.size();
    for (size_t a = 0; a < ni; ++a) ks.ptrs[a] = where(K.inputs[a], in, outs);
    for (size_t o = 0; o < K.outputs.size(); ++o)
      ks.ptrs[ni + o] = !ks.row_acc[o].empty() ? ks.row_acc[o].data() : where(K.outputs[o], in, outs);
    for (size_t o = 0; o < K.outputs.size(); ++o)
      if (!ks.row_acc[o].empty()) std::fill(ks.row_acc[o].begin(), ks.row_acc[o].end(), ks.identity[o]);
    int64_t r = K.dom.rows, c = K.dom.cols;
    double* part = ks.partial.data();
    int nred = ks.spec.n_red_all;
    KernelFn fn = ks.fn;
    void** ptrs = ks.ptrs.data();
    auto body = [&](int64_t k) {
      double* red = nred ? part + k * nred : nullptr;
      if (ks.by_rows) fn(ptrs, r, k * ks.chunk, std::min(r, (k + 1) * ks.chunk), 0, c, red);
      else fn(ptrs, r, 0, r, k * ks.chunk, std::min(c, (k + 1) * ks.chunk), red);
    };
    pool_run(ks.n_chunks, body, r * c >= kParallelMin);
    // Finish reductions with their monoids: partials merged in a fixed
    // order (deterministic), row accumulators finished.
    for (size_t o = 0; o < K.outputs.size(); ++o) {
      if (!ks.finish[o]) continue;
      const KOp& op = ks.spec.ops[ks.spec.outputs[o]];
      const Monoid& M = *prim(op.prim).monoid;
      if (ks.empty[o] && M.empty_warning) raise_warning(M.empty_warning);
      void* dst = where(K.outputs[o], in, outs);
      if (op.red_slot >= 0) {
        std::vector<double>& scratch = ks.merge_scratch;
        scratch.resize((size_t)ks.n_chunks);
        for (int64_t k = 0; k < ks.n_chunks; ++k) scratch[k] = part[k * nred + op.red_slot];
        double acc = tape_merge(*ks.merge[o], ks.identity[o], scratch.data(), ks.n_chunks);
        tape_finish(*ks.finish[o], &acc, 1, dst);
      } else if (!ks.row_acc[o].empty()) {
        tape_finish(*ks.finish[o], ks.row_acc[o].data(), r, dst);
      }
    }
  }

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& inputs) override {
    const Graph& g = *graph;
    check_inputs(g, inputs);
    std::vector<BufferPtr> outs(g.outputs.size());
    for (size_t p = 0; p < g.outputs.size(); ++p) {
      int o = g.outputs[p];
      const Slot& s = slot[o];
      if (s.loc == Loc::input) outs[p] = inputs[s.at];
      else if (s.loc == Loc::constant) outs[p] = g.nodes[o].value;
      else if (out_first[p] != (int)p) outs[p] = outs[out_first[p]];
      else outs[p] = make_buffer(g.type(o).dtype, g.type(o).shape);
    }
    arena = make_buffer(DType::b8, {arena_bytes});
    struct EndRun {  // the arena and tuple outputs are per run: never kept after it (nor after an error)
      LlvmExecutable& e;
      ~EndRun() {
        for (auto& v : e.tuples) v.clear();
        e.arena.reset();
      }
    } end_run{*this};
    size_t ki = 0, li = 0;
    for (const Step& st : plan.steps) {
      check_interrupt();  // kernels poll between their chunks too (pool_run)
      if (st.is_kernel) {
        run_kernel(kernels[ki++], inputs, outs);
        continue;
      }
      LibStep& ls = libs[li++];
      const Node& n = g.nodes[ls.node];
      if (ls.control) {
        run_control(ls, inputs, outs);
        continue;
      }
      if (ls.tuple_get) {
        const BufferPtr& src = tuples[n.in[0]].at(n.attrs.ints[0]);
        if (src->nbytes()) std::memcpy(where(ls.node, inputs, outs), src->data, src->nbytes());
        continue;
      }
      for (size_t a = 0; a < n.in.size(); ++a) ls.args[a] = buffer_of(n.in[a], inputs, ls.in_views[a].get(), outs);
      ls.out_view->data = where(ls.node, inputs, outs);
      eval_prim(prim(n.prim), ls.args, *ls.out_view, n.attrs);
    }
    return outs;
  }

  // Operands in the arena are passed as views of it; results that alias one
  // (a carry passed through unchanged, a cond branch returning an operand)
  // are copied, since the arena block may be reused before their tuple_get runs.
  void run_control(LibStep& ls, const std::vector<BufferPtr>& inputs, const std::vector<BufferPtr>& outs) {
    const Graph& g = *graph;
    const Node& n = g.nodes[ls.node];
    std::vector<BufferPtr> in;
    for (int u : n.in) {
      const Slot& s = slot[u];
      if (s.loc == Loc::input) in.push_back(inputs[s.at]);
      else if (s.loc == Loc::constant) in.push_back(g.nodes[u].value);
      else if (s.loc == Loc::output) in.push_back(outs[s.at]);
      else in.push_back(buffer_view(arena, (size_t)s.at, g.type(u).dtype, g.type(u).shape));
    }
    std::vector<BufferPtr> r = ls.control->run(in);
    const char* lo = static_cast<const char*>(arena->data);
    const char* hi = lo + arena->nbytes();
    for (auto& b : r) {
      const char* d = static_cast<const char*>(b->data);
      if (d && d >= lo && d < hi) {
        auto c = make_buffer(b->dtype, b->shape);
        std::memcpy(c->data, b->data, b->nbytes());
        b = c;
      }
    }
    tuples[ls.node] = std::move(r);
  }
};

// Liveness-based placement of intermediates: a value gets a block freed by
// values whose last use came strictly before the step that produces it.
void plan_memory(LlvmExecutable& e) {
  const Graph& g = *e.graph;
  size_t nv = g.nodes.size();
  e.slot.assign(nv, Slot{});
  auto ins = g.inputs();
  for (size_t k = 0; k < ins.size(); ++k) e.slot[ins[k]] = {Loc::input, (int64_t)k};
  for (size_t v = 0; v < nv; ++v)
    if (g.nodes[v].value) e.slot[v] = {Loc::constant, 0};
  e.out_first.assign(g.outputs.size(), -1);
  for (size_t p = 0; p < g.outputs.size(); ++p) {
    int o = g.outputs[p];
    e.out_first[p] = (int)p;
    for (size_t q = 0; q < p; ++q)
      if (g.outputs[q] == o) { e.out_first[p] = e.out_first[q]; break; }
    if (e.slot[o].loc == Loc::none) e.slot[o] = {Loc::output, (int64_t)p};
  }
  size_t ns = e.plan.steps.size();
  std::vector<std::vector<int>> made(ns), read(ns);
  for (size_t s = 0; s < ns; ++s) {
    const Step& st = e.plan.steps[s];
    if (st.is_kernel) {
      made[s] = e.plan.kernels[st.index].outputs;
      read[s] = e.plan.kernels[st.index].inputs;
    } else {
      made[s] = {st.index};
      read[s] = g.nodes[st.index].in;
    }
  }
  std::vector<int64_t> last(nv, -1);
  for (size_t s = 0; s < ns; ++s)
    for (int v : read[s]) last[v] = (int64_t)s;
  struct Block { int64_t off, size; };
  std::vector<Block> free_blocks;
  std::vector<Block> held(nv, Block{0, 0});
  int64_t top = 0;
  for (size_t s = 0; s < ns; ++s) {
    for (int v : made[s]) {
      if (e.slot[v].loc != Loc::none) continue;
      int64_t need = ((int64_t)(g.type(v).size() * dtype_size(g.type(v).dtype)) + 63) / 64 * 64;
      int best = -1;
      for (size_t f = 0; f < free_blocks.size(); ++f)
        if (free_blocks[f].size >= need && (best < 0 || free_blocks[f].size < free_blocks[best].size)) best = (int)f;
      Block blk;
      if (best >= 0) {
        blk = free_blocks[best];
        free_blocks.erase(free_blocks.begin() + best);
      } else {
        blk = {top, need};
        top += need;
      }
      held[v] = blk;
      e.slot[v] = {Loc::arena, blk.off};
    }
    for (int v : made[s])
      if (e.slot[v].loc == Loc::arena && last[v] < (int64_t)s) free_blocks.push_back(held[v]);  // never read
    for (int v : read[s])
      if (e.slot[v].loc == Loc::arena && last[v] == (int64_t)s) {
        free_blocks.push_back(held[v]);
        last[v] = -2;  // freed once even if read twice by this step
      }
  }
  e.arena_bytes = top;
}

void plan_kernel(KernelStep& ks) {
  const FusedKernel& K = *ks.k;
  int64_t r = K.dom.rows, c = K.dom.cols;
  if (K.red == RedKind::row && c > 1) {
    ks.by_rows = true;
    ks.chunk = std::max<int64_t>(64, (kChunk / c + 63) / 64 * 64);
  } else if (c == 1 || K.red == RedKind::row) {
    ks.by_rows = true;
    ks.chunk = kChunk;
  } else {
    ks.by_rows = false;
    ks.chunk = std::max<int64_t>(1, kChunk / std::max<int64_t>(r, 1));
  }
  int64_t extent = ks.by_rows ? r : c;
  ks.n_chunks = (extent + ks.chunk - 1) / ks.chunk;
  ks.partial.assign((size_t)std::max<int64_t>(ks.n_chunks, 1) * std::max(ks.spec.n_red_all, 1), 0.0);
  ks.row_acc.assign(K.outputs.size(), {});
  ks.merge.assign(K.outputs.size(), nullptr);
  ks.finish.assign(K.outputs.size(), nullptr);
  ks.identity.assign(K.outputs.size(), 0.0);
  ks.empty.assign(K.outputs.size(), 0);
  for (size_t o = 0; o < K.outputs.size(); ++o) {
    const KOp& op = ks.spec.ops[ks.spec.outputs[o]];
    const PrimDef& p = prim(op.prim);
    if (!p.reduces) continue;
    const DType in = op.arg_dtypes[0];
    ks.merge[o] = monoid_merge_tape(*p.monoid, in);
    ks.finish[o] = monoid_finish_tape(*p.monoid, in, op.dtype);
    ks.identity[o] = p.monoid->identity(in);
    ks.empty[o] = K.red == RedKind::all ? r * c == 0 : K.red == RedKind::col ? r == 0 : c == 0;
    if (K.red == RedKind::row) ks.row_acc[o].assign((size_t)r, 0.0);
  }
  ks.ptrs.assign(K.inputs.size() + K.outputs.size(), nullptr);
}

bool dump_requested() {
  const char* s = std::getenv("RJAX_DUMP_IR");
  return s && *s && std::strcmp(s, "0") != 0 && std::strcmp(s, "false") != 0 && std::strcmp(s, "FALSE") != 0;
}

}  // namespace

ExecutablePtr compile_llvm(GraphPtr g) {
  auto e = std::make_shared<LlvmExecutable>();
  e->graph = g;
  e->backend = "llvm";
  FusionRules rules;
  rules.supports = kernel_supports;
  rules.weight = kernel_weight;
  rules.max_weight = kKernelMaxWeight;
  e->plan = fuse(*g, rules);
  std::vector<KernelSpec> specs;
  for (const FusedKernel& K : e->plan.kernels) specs.push_back(make_spec(*g, K));
  std::string code;
  bool dump = dump_requested();
  CompiledKernels compiled = compile_kernel_set(specs, dump ? &code : nullptr);
  const std::vector<KernelFn>& fns = compiled.fns;
  e->modules = std::move(compiled.modules);
  for (const Step& st : e->plan.steps) {
    if (st.is_kernel) {
      KernelStep ks;
      ks.k = &e->plan.kernels[st.index];
      ks.spec = specs[st.index];
      ks.fn = fns[st.index];
      plan_kernel(ks);
      e->kernels.push_back(std::move(ks));
    } else {
      const Node& n = g->nodes[st.index];
      if (n.is_tuple() || n.prim == prim_id("tuple_get")) {
        LibStep ls;
        ls.node = st.index;
        if (n.is_tuple()) ls.control = make_control_runner(n, "llvm");
        else ls.tuple_get = true;
        e->libs.push_back(std::move(ls));
        continue;
      }
      if (!prim(n.prim).eval && !prim(n.prim).scalar) fail("internal", "primitive '" + prim(n.prim).name + "' has no kernel");
      LibStep ls;
      ls.node = st.index;
      for (int u : n.in) ls.in_views.push_back(std::make_unique<View>(g->type(u).dtype, g->type(u).shape));
      ls.out_view = std::make_unique<View>(n.type.dtype, n.type.shape);
      ls.args.assign(n.in.size(), nullptr);
      e->libs.push_back(std::move(ls));
    }
  }
  plan_memory(*e);
  e->tuples.resize(g->nodes.size());
  e->text = "; ---- fusion plan ----\n" + print_plan(*g, e->plan);
  char times[200];
  std::snprintf(times, sizeof times, "; compiled %d kernel(s): IR %.1f ms, optimiser %.1f ms, machine code %.1f ms\n",
                compiled.n_compiled, 1e3 * compiled.seconds_ir, 1e3 * compiled.seconds_optimise,
                1e3 * compiled.seconds_machine_code);
  e->text += times;
  if (dump) e->text += code.empty() ? "; (all kernels came from the compile cache)\n" : code;
  return e;
}

}  // namespace rj
