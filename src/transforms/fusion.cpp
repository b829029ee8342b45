// Greedy fusion of element-wise chains and their reductions (see fusion.h).
//
// Nodes are visited in topological order. A fusable node joins an existing
// kernel with the same loop domain when every operand is either a
// (non-reduction) member of that kernel or is computed by a step placed
// before it; otherwise it opens a new kernel at the end of the step list.
// That rule keeps the step order a valid schedule (no cycles) while letting
// independent element-wise work that shares a domain share one loop.
#include "fusion.h"

#include <algorithm>
#include <sstream>

namespace rj {

Dom2 dom2(const Shape& s) {
  if (s.empty()) return {1, 1};
  if (s.size() == 2) return {s[0], s[1]};
  return {shape_size(s), 1};
}

static bool is_prim(const Node& n, const char* name) { return prim(n.prim).name == name; }

bool is_immediate(const Graph& g, int v) {
  const Node& n = g.nodes[v];
  return n.value && n.value->size() == 1;
}

RedKind reduction_kind(const Graph& g, int v) {
  const Node& n = g.nodes[v];
  const PrimDef& p = prim(n.prim);
  if (!p.reduces || !p.monoid) return RedKind::none;
  const Shape& s = g.type(n.in[0]).shape;
  const auto& ax = n.attrs.ints;
  if (ax.size() == s.size()) return RedKind::all;
  if (s.size() == 2 && ax.size() == 1) return ax[0] == 0 ? RedKind::col : RedKind::row;
  return RedKind::none;
}

SliceRead slice_read(const Graph& g, int v) {
  SliceRead none, r;
  const Node& n = g.nodes[v];
  if (!is_prim(n, "gather") || n.in.size() != 1) return none;
  const Type& t = g.type(n.in[0]);
  const size_t rank = t.shape.size();
  if ((rank != 1 && rank != 2) || t.size() <= 1 || n.attrs.lists.size() != rank) return none;
  for (const std::vector<int64_t>& l : n.attrs.lists) {
    if (l.empty()) return none;
    for (size_t i = 1; i < l.size(); ++i)
      if (l[i] != l[0] + (int64_t)i) return none;
  }
  r.offset = n.attrs.lists[0][0];
  if (rank == 2) {
    const int64_t m = t.shape[0];
    r.offset += n.attrs.lists[1][0] * m;
    if ((int64_t)n.attrs.lists[0].size() != m) r.ld = m;  // a row range: columns m apart in memory
  }
  return r;
}

Dom2 member_domain(const Graph& g, int v) {
  const Node& n = g.nodes[v];
  if (reduction_kind(g, v) != RedKind::none) return dom2(g.type(n.in[0]).shape);
  return dom2(n.type.shape);
}

IndexMap operand_map(const Graph& g, int v, int operand) {
  const Type& t = g.type(operand);
  if (t.size() == 1) return IndexMap::scalar;
  const Node& n = g.nodes[v];
  if (is_prim(n, "broadcast")) {
    const Shape& out = n.type.shape;
    if (out.size() == 2 && t.shape.size() == 2) {
      if (t.shape[1] == 1 && t.shape[0] == out[0]) return IndexMap::col;
      if (t.shape[0] == 1 && t.shape[1] == out[1]) return IndexMap::row;
    }
  }
  return IndexMap::linear;
}

namespace {

struct Fuser {
  const Graph& g;
  const FusionRules& rules;
  FusionPlan plan;
  std::vector<int> step_of;   // step index producing each value (-1: input or constant)
  std::vector<int> kernel_of; // kernel index of each member (-1: none)
  std::vector<int> kernel_step;
  std::vector<int> weight;  // per node, computed once
  std::vector<int64_t> slice_offset;  // per node: slice_read().offset, computed once (-2: not yet)

  int64_t slice_of(int v) {
    if (slice_offset[v] == -2) slice_offset[v] = slice_read(g, v).offset;
    return slice_offset[v];
  }

  int weight_of(int v) {
    if (weight[v] < 0) weight[v] = rules.weight ? std::max(1, rules.weight(g, v)) : 1;
    return weight[v];
  }

  Fuser(const Graph& graph, const FusionRules& r)
      : g(graph), rules(r), step_of(graph.nodes.size(), -1), kernel_of(graph.nodes.size(), -1),
        weight(graph.nodes.size(), -1), slice_offset(graph.nodes.size(), -2) {}

  bool legal(int k, int v) {
    const FusedKernel& K = plan.kernels[k];
    if (K.dom != member_domain(g, v)) return false;
    if (rules.max_weight > 0 && K.weight + weight_of(v) > rules.max_weight && !K.members.empty()) return false;
    RedKind rk = reduction_kind(g, v);
    if (rk != RedKind::none && K.red != RedKind::none && K.red != rk) return false;
    int pos = kernel_step[k];
    const bool slice = slice_of(v) >= 0;
    for (int u : g.nodes[v].in) {
      if (kernel_of[u] == k) {
        if (reduction_kind(g, u) != RedKind::none) return false;  // not available inside the loop
        if (slice) return false;  // a slice reads its operand from memory, at other positions
      } else if (step_of[u] >= pos) {
        return false;
      }
    }
    return true;
  }

  void add_member(int k, int v) {
    FusedKernel& K = plan.kernels[k];
    K.members.push_back(v);
    K.weight += weight_of(v);
    RedKind rk = reduction_kind(g, v);
    if (rk != RedKind::none) K.red = rk;
    kernel_of[v] = k;
    step_of[v] = kernel_step[k];
  }

  void place(int v) {
    // Candidates: kernels of member operands (latest first), then the most
    // recent kernels (horizontal fusion of independent work).
    std::vector<int> cands;
    for (int u : g.nodes[v].in)
      if (kernel_of[u] >= 0) cands.push_back(kernel_of[u]);
    std::sort(cands.rbegin(), cands.rend());
    for (int k = (int)plan.kernels.size() - 1, seen = 0; k >= 0 && seen < 8; --k, ++seen) cands.push_back(k);
    for (int k : cands)
      if (legal(k, v)) return add_member(k, v);
    FusedKernel K;
    K.dom = member_domain(g, v);
    plan.kernels.push_back(K);
    plan.steps.push_back(Step{true, (int)plan.kernels.size() - 1});
    kernel_step.push_back((int)plan.steps.size() - 1);
    add_member((int)plan.kernels.size() - 1, v);
  }

  void run() {
    for (size_t v = 0; v < g.nodes.size(); ++v) {
      const Node& n = g.nodes[v];
      if (n.value || is_prim(n, "param")) continue;
      if (rules.supports && n.sub.empty() && rules.supports(g, (int)v)) {
        place((int)v);
      } else {
        plan.steps.push_back(Step{false, (int)v});
        step_of[v] = (int)plan.steps.size() - 1;
      }
    }
    finish();
  }

  // Inputs and outputs of each kernel, now that membership is final.
  void finish() {
    std::vector<char> is_out(g.nodes.size(), 0);
    for (int o : g.outputs) is_out[o] = 1;
    for (size_t v = 0; v < g.nodes.size(); ++v)
      for (int u : g.nodes[v].in)
        if (kernel_of[u] >= 0 && kernel_of[u] != kernel_of[v]) is_out[u] = 1;
    for (size_t k = 0; k < plan.kernels.size(); ++k) {
      FusedKernel& K = plan.kernels[k];
      for (int v : K.members) {
        if (is_out[v] || reduction_kind(g, v) != RedKind::none) K.outputs.push_back(v);
        for (int u : g.nodes[v].in)
          if (kernel_of[u] != (int)k && !is_immediate(g, u) &&
              std::find(K.inputs.begin(), K.inputs.end(), u) == K.inputs.end())
            K.inputs.push_back(u);
      }
    }
  }
};

}  // namespace

FusionPlan fuse(const Graph& g, const FusionRules& rules) {
  Fuser b(g, rules);
  b.run();
  return std::move(b.plan);
}

std::string print_plan(const Graph& g, const FusionPlan& p) {
  static const char* red_names[] = {"", " reduce=all", " reduce=col", " reduce=row"};
  std::ostringstream os;
  for (const Step& s : p.steps) {
    if (!s.is_kernel) {
      os << "call " << prim(g.nodes[s.index].prim).name << " -> %" << s.index << "\n";
      continue;
    }
    const FusedKernel& K = p.kernels[s.index];
    os << "kernel[" << K.dom.rows << "x" << K.dom.cols << red_names[(int)K.red] << "] in(";
    for (size_t i = 0; i < K.inputs.size(); ++i) os << (i ? " %" : "%") << K.inputs[i];
    os << ") out(";
    for (size_t i = 0; i < K.outputs.size(); ++i) os << (i ? " %" : "%") << K.outputs[i];
    os << "):";
    for (int v : K.members) os << " " << prim(g.nodes[v].prim).name;
    os << "\n";
  }
  return os.str();
}

}  // namespace rj
