// Algebraic simplification. The graph is replayed node by node through
// rewrite(), which pattern-matches on the *new* graph (so rewrites compose)
// and emits through Builder::emit (so CSE and constant folding still apply);
// dce() then drops what became dead. optimize() repeats this to a fixpoint.
//
// Rewrites (x an operand, c a constant):
//   stop_gradient(x)                    -> x        (only here, after AD: see below)
//   custom_vjp_call(args)               -> f's graph inlined (backends never see it)
//   convert(x, dtype(x))                -> x
//   reshape(reshape(x)), reshape to same shape -> one reshape / x
//   transpose(transpose(x))             -> x (inverse perms) or one transpose
//   matmul(t(A), B) etc.                -> matmul with the transpose flag flipped
//   neg(neg(x)), log(exp(x))            -> x
//   x * 1, x / 1, x + 0, x - 0          -> x
//   x * 0                               -> 0 (see "NaN semantics" below)
//   x * -1 -> -x,  x + (-y) -> x - y,  x - (-y) -> x + y   (exact in IEEE arithmetic)
//   x * select(p, 1, 0) -> select(p, x, 0)   (the 0 branch is x * 0 -> 0, as below;
//                                       element-wise VJPs of ifelse multiply by such masks)
//   uniform constant operand (every element equal) of an element-wise op
//                                       -> rank-0 scalar constant (implicit broadcast)
//   sum(diag(op(A) %*% op(B)))          -> sum(A * t(B)) (flags equal) or sum(A * B)
//   gather(gather(x, L1), L2)            -> gather(x, L1[L2]) (index sets composed per dimension)
//   slice(f(a, b, ...))                  -> f(slice(a), slice(b), ...) for element-wise f whose
//                                       every use is a slice (a static slice: each index set a
//                                       contiguous range; rank-0 operands stay as they are)
//
// Slice sinking: R's diff() is x[-1] - x[-n], so diff(diff(x)) slices an
// element-wise value. Moving the slices down to the graph's leaves leaves
// only slices of buffers, which fusion reads in place (a load at an offset,
// src/transforms/fusion.cpp), so any nest of diffs is one element-wise pass.
// Only values used by nothing but slices are sunk: a value with another use
// is computed anyway, and recomputing it per slice would duplicate work.
//
// NaN semantics of x * 0: IEEE gives NaN for x = Inf or NaN; we rewrite to 0
// anyway, as JAX's AD does with its symbolic zeros: the products by 0 that
// reach this pass are almost all zero cotangents created by VJP rules
// (select, scatter, ...), where 0 is the mathematically right answer and a
// NaN would only leak from an unused branch. A user who needs IEEE
// propagation through an explicit `x * 0` gets 0 instead: documented in grad().
//
// stop_gradient is removed here, never between nested transforms: grad()
// does not run this pass on the graphs it differentiates, so an inner grad's
// program keeps its stop_gradient nodes for the outer grad to see.
#include <map>
#include <numeric>

#include "passes.h"

namespace rj {

int inline_custom_call(Builder& b, const Node& n, const std::vector<int>& in);  // prims/custom.cpp

namespace {

struct Ids {
  int stop_gradient, custom, custom_jvp, convert, reshape, transpose, matmul, neg, log, exp, mul, div, add, sub, reduce_sum,
      gather, select;
  Ids()
      : stop_gradient(prim_id("stop_gradient")), custom(prim_id("custom_vjp_call")), custom_jvp(prim_id("custom_jvp_call")), convert(prim_id("convert")),
        reshape(prim_id("reshape")), transpose(prim_id("transpose")), matmul(prim_id("matmul")), neg(prim_id("neg")),
        log(prim_id("log")), exp(prim_id("exp")), mul(prim_id("mul")), div(prim_id("div")), add(prim_id("add")),
        sub(prim_id("sub")), reduce_sum(prim_id("reduce_sum")), gather(prim_id("gather")), select(prim_id("select")) {}
};

const Ids& ids() {
  static Ids i;
  return i;
}

bool is_identity_perm(const std::vector<int64_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != (int64_t)i) return false;
  return true;
}

// A constant whose elements are all equal (returns that value in *v).
bool uniform_const(const Builder& b, int x, double* v) {
  const Node& n = b.g.nodes[x];
  if (!n.value || n.value->size() == 0) return false;
  double first = n.value->get(0);
  if (first != first) return false;
  for (int64_t i = 1; i < n.value->size(); ++i)
    if (n.value->get(i) != first) return false;
  *v = first;
  return true;
}

// sum(diag(M)) with M = matmul(A, B) square: the gather of the diagonal of
// reshape(M, [m*m]). Returns the matmul node id, or -1.
int trace_of_matmul(const Builder& b, int gathered) {
  const Ids& I = ids();
  const Node& gn = b.g.nodes[gathered];
  if (gn.prim != I.gather || gn.attrs.lists.size() != 1) return -1;
  const Node& rn = b.g.nodes[gn.in[0]];
  if (rn.prim != I.reshape) return -1;
  int mm = rn.in[0];
  const Node& mn = b.g.nodes[mm];
  if (mn.prim != I.matmul) return -1;
  const Shape& s = mn.type.shape;
  if (s.size() != 2 || s[0] != s[1]) return -1;
  const auto& l = gn.attrs.lists[0];
  if ((int64_t)l.size() != s[0]) return -1;
  for (int64_t k = 0; k < s[0]; ++k)
    if (l[k] != k * (s[0] + 1)) return -1;
  return mm;
}

// A static slice: every index set is a non-empty contiguous range.
bool static_slice(const Attrs& a) {
  for (const auto& l : a.lists) {
    if (l.empty()) return false;
    for (size_t k = 1; k < l.size(); ++k)
      if (l[k] != l[0] + (int64_t)k) return false;
  }
  return true;
}

struct Sinker {
  Builder& b;
  const std::vector<char>& shared;  // new-graph ids with a use other than a slice
  std::map<std::pair<int, std::string>, int> memo;

  // gather(x, a), with gathers composed and static slices sunk through
  // element-wise values that only slices use.
  int gather(int x, const Attrs& a) {
    auto key = std::make_pair(x, a.key());
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
    int r = -1;
    const Node& xn = b.g.nodes[x];
    const int gid = ids().gather;
    if (xn.prim == gid && xn.attrs.lists.size() == a.lists.size()) {
      Attrs c = a;
      for (size_t d = 0; d < c.lists.size(); ++d)
        for (auto& k : c.lists[d]) k = xn.attrs.lists[d][k];
      r = gather(xn.in[0], c);
    } else if (sinkable(x, a)) {
      Node e = xn;  // a copy: emitting grows the node vector
      std::vector<int> in;
      for (int u : e.in) in.push_back(b.type(u).rank() == 0 ? u : gather(u, a));
      r = b.emit(e.prim, in, e.attrs);
      Shape want;
      for (const auto& l : a.lists) want.push_back((int64_t)l.size());
      if (b.type(r).dtype != e.type.dtype || b.type(r).shape != want) r = -1;
    }
    if (r < 0) r = b.emit(gid, {x}, a);
    memo[key] = r;
    return r;
  }

  bool sinkable(int x, const Attrs& a) {
    const Node& xn = b.g.nodes[x];
    if ((size_t)x < shared.size() && shared[x]) return false;
    if (xn.value || !xn.sub.empty() || !prim(xn.prim).elementwise || !static_slice(a)) return false;
    for (int u : xn.in) {
      const Type& t = b.type(u);
      if (t.rank() != 0 && t.shape != xn.type.shape) return false;
    }
    return true;
  }
};

int rewrite(Builder& b, const Node& n, std::vector<int> in, Sinker& sink) {
  const Ids& I = ids();
  const PrimDef& p = prim(n.prim);
  auto node = [&](int v) -> const Node& { return b.g.nodes[v]; };
  const Shape out_shape = n.type.shape;

  if (!n.sub.empty()) {
    if (n.prim == I.custom || n.prim == I.custom_jvp) return inline_custom_call(b, n, in);
    Node c = n;  // other nodes with sub-graphs (control flow) are copied as they are
    c.in = in;
    b.g.nodes.push_back(std::move(c));
    return (int)b.g.nodes.size() - 1;
  }
  if (n.prim == I.stop_gradient) return in[0];
  if (n.prim == I.convert && b.type(in[0]).dtype == n.attrs.dtype) return in[0];
  if (n.prim == I.reshape) {
    int x = in[0];
    if (node(x).prim == I.reshape) x = node(x).in[0];
    return b.reshape(x, n.attrs.shape);
  }
  if (n.prim == I.transpose) {
    if (is_identity_perm(n.attrs.ints)) return in[0];
    const Node& t1 = node(in[0]);
    if (t1.prim == I.transpose) {  // out dim i = t1 dim p2[i] = x dim p1[p2[i]]
      std::vector<int64_t> q(n.attrs.ints.size());
      for (size_t i = 0; i < q.size(); ++i) q[i] = t1.attrs.ints[n.attrs.ints[i]];
      int x = t1.in[0];
      return is_identity_perm(q) ? x : b.transpose(x, q);
    }
  }
  if (n.prim == I.matmul) {  // absorb 2-d transposes of the operands into the flags
    bool ta = n.attrs.ints.size() > 0 && n.attrs.ints[0], tb = n.attrs.ints.size() > 1 && n.attrs.ints[1];
    int a = in[0], c = in[1];
    auto is_t2 = [&](int v) { return node(v).prim == I.transpose && node(v).attrs.ints == std::vector<int64_t>{1, 0}; };
    if (is_t2(a)) { a = node(a).in[0]; ta = !ta; }
    if (is_t2(c)) { c = node(c).in[0]; tb = !tb; }
    return b.matmul(a, c, ta, tb);
  }
  if (n.prim == I.gather && n.in.size() == 1) return sink.gather(in[0], n.attrs);
  if (n.prim == I.neg && node(in[0]).prim == I.neg) return node(in[0]).in[0];
  if (n.prim == I.log && node(in[0]).prim == I.exp) return node(in[0]).in[0];
  if (n.prim == I.reduce_sum && n.type.shape.empty() && b.type(in[0]).rank() == 1) {
    int mm = trace_of_matmul(b, in[0]);
    if (mm >= 0) {
      Node m = node(mm);  // a copy: emitting grows the node vector
      bool ta = m.attrs.ints.size() > 0 && m.attrs.ints[0], tb = m.attrs.ints.size() > 1 && m.attrs.ints[1];
      int A = m.in[0], B = m.in[1];
      int prod = ta == tb ? b.mul(A, b.transpose(B, {1, 0})) : b.mul(A, B);
      return b.sum(prod, {0, 1});
    }
  }

  if (p.elementwise && in.size() >= 2) {
    // A uniform constant operand becomes a scalar when another operand
    // carries the output shape (saves memory; exposes x * 1 and x + 0).
    bool shaped_other = false;
    for (int v : in) shaped_other = shaped_other || (b.type(v).shape == out_shape && !b.is_const(v));
    if (shaped_other)
      for (auto& v : in) {
        double c;
        if (b.type(v).rank() > 0 && uniform_const(b, v, &c)) v = b.scalar(c, b.type(v).dtype);
      }
    bool flt = is_float(n.type.dtype);
    auto keeps_shape = [&](int v) { return b.type(v).shape == out_shape; };
    int x = in[0], y = in.size() > 1 ? in[1] : -1;
    if (n.prim == I.mul) {
      if (b.is_const_value(y, 1) && keeps_shape(x)) return x;
      if (b.is_const_value(x, 1) && keeps_shape(y)) return y;
      if (flt && (b.is_const_value(x, 0) || b.is_const_value(y, 0))) return b.full(0, n.type);
      if (b.is_const_value(y, -1) && keeps_shape(x)) return b.neg(x);
      if (b.is_const_value(x, -1) && keeps_shape(y)) return b.neg(y);
      for (int k = 0; k < 2 && flt; ++k) {  // x * select(p, 1, 0) -> select(p, x, 0), and the mirror
        int m = k ? x : y, other = k ? y : x;
        const Node& sn = node(m);
        if (sn.prim != I.select) continue;
        bool one_zero = b.is_const_value(sn.in[1], 1) && b.is_const_value(sn.in[2], 0);
        bool zero_one = b.is_const_value(sn.in[1], 0) && b.is_const_value(sn.in[2], 1);
        if (!one_zero && !zero_one) continue;
        int p = sn.in[0], zero = b.scalar(0, n.type.dtype);
        return one_zero ? b.select(p, other, zero) : b.select(p, zero, other);
      }
    }
    if (n.prim == I.div && b.is_const_value(y, 1) && keeps_shape(x)) return x;
    if (n.prim == I.add) {
      if (b.is_const_value(y, 0) && keeps_shape(x)) return x;
      if (b.is_const_value(x, 0) && keeps_shape(y)) return y;
      if (node(y).prim == I.neg) return b.sub(x, node(y).in[0]);
      if (node(x).prim == I.neg) return b.sub(y, node(x).in[0]);
    }
    if (n.prim == I.sub) {
      if (b.is_const_value(y, 0) && keeps_shape(x)) return x;
      if (b.is_const_value(x, 0) && keeps_shape(y)) return b.neg(y);
      if (node(y).prim == I.neg) return b.add(x, node(y).in[0]);
    }
  }
  return b.emit(n.prim, in, n.attrs);
}

}  // namespace

GraphPtr simplify(const Graph& g) {
  auto out = graph_like(g);
  Builder b(*out);
  std::vector<int> map(g.nodes.size(), -1);
  auto ins = g.inputs(), new_ins = out->inputs();
  for (size_t i = 0; i < ins.size(); ++i) map[ins[i]] = new_ins[i];
  int param_id = prim_id("param");
  // Old-graph values that stay materialised (`needed`): outputs, and operands
  // of needed nodes other than static slices. An element-wise value used
  // only by slices is not needed: the slices sink through it, so its
  // operands are in turn only sliced. A reshape to the same shape (rewritten
  // away below) passes its own flag on. Users come after their operands, so
  // a reverse sweep sees each flag final. The new ids of needed values are
  // marked in `shared`: no slice sinks through them.
  std::vector<char> needed(g.nodes.size(), 0), shared;
  for (int o : g.outputs) needed[o] = 1;
  for (size_t v = g.nodes.size(); v-- > 0;) {
    const Node& n = g.nodes[v];
    bool slice = n.prim == ids().gather && n.in.size() == 1 && static_slice(n.attrs);
    bool same_reshape = n.prim == ids().reshape && n.in.size() == 1 && g.type(n.in[0]).shape == n.type.shape;
    bool sunk = prim(n.prim).elementwise && n.sub.empty() && !n.value;
    char pass = slice ? 0 : same_reshape || sunk ? needed[v] : 1;
    for (int u : n.in) needed[u] |= pass;
  }
  Sinker sink{b, shared, {}};
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    if (n.prim == param_id || map[v] >= 0) continue;
    if (n.value) { map[v] = b.constant(n.value, n.type.weak); continue; }
    std::vector<int> in;
    for (int i : n.in) in.push_back(map[i]);
    int r = rewrite(b, n, in, sink);
    // A rewrite must keep the value's type; a weak/strong or shape slip here
    // would be a bug in a rule, so fall back to the plain node.
    if (!out->type(r).same(n.type)) r = b.emit(n.prim, in, n.attrs);
    map[v] = r;
    if (needed[v]) {
      if (shared.size() <= (size_t)r) shared.resize(r + 1, 0);
      shared[r] = 1;
    }
  }
  for (int o : g.outputs) out->outputs.push_back(map[o]);
  return dce(*out);
}

static int count_ops(const Graph& g) {
  int param_id = prim_id("param"), const_id = prim_id("const"), n = 0;
  for (auto& x : g.nodes) n += x.prim != param_id && x.prim != const_id;
  return n;
}

// Nodes that must not survive optimize(): backends have no kernel for them.
static bool has_pending(const Graph& g) {
  const Ids& I = ids();
  for (auto& x : g.nodes)
    if (x.prim == I.custom || x.prim == I.custom_jvp || x.prim == I.stop_gradient) return true;
  return false;
}

// Simplify to a fixpoint (each sweep can expose more: an inlined custom call,
// a transpose pair that met through a reshape, ...); a few sweeps suffice.
GraphPtr optimize(const Graph& g) {
  GraphPtr cur = dce(g);
  int n = count_ops(*cur);
  for (int it = 0; it < 8; ++it) {
    GraphPtr next = simplify(*cur);
    int m = count_ops(*next);
    cur = next;
    if (m >= n && !has_pending(*cur)) break;
    n = m;
  }
  return cur;
}

}  // namespace rj
