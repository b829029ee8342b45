// Control-flow primitives: scan, while, cond (layouts in control.h) and
// tuple_get, which reads one output of a tuple node. Their executors are in
// src/backend/control.cpp (one loop in C++ for every backend); here are the
// type rules and the VJP rules.
//
// VJP of scan. A forward scan whose body also emits its input carry as an
// extra y stacks the carry of every iteration (the residuals: memory grows
// linearly with the length); a reverse scan then runs the body's VJP
// (vjp_graph via subgraph_vjp, which recomputes the body's forward from the stored carry),
// carrying the carry's cotangent and accumulating the cotangents of the
// loop-invariant inputs, and stacking those of the xs. The forward scan of
// the original node stays in the program for the value; the residual scan
// computes it again (twice the forward cost under grad, a price for keeping
// the rule local to the node).
//
// VJP of cond: a cond whose branches are the VJPs of the branches (each
// recomputes its forward part; no residuals). while has no VJP: its trip
// count is unknown in advance, as in JAX.
#include "control.h"

#include "../ir/replay.h"
#include "prim_util.h"

namespace rj {

Type slice_type(const Type& stacked) {
  Type t = stacked;
  if (t.shape.empty()) fail("internal", "slice of a rank-0 value");
  t.shape.pop_back();
  return t;
}

Type stacked_type(const Type& slice, int64_t length) {
  Type t = slice;
  t.shape.push_back(length);
  t.weak = false;
  return t;
}

namespace {

Type infer_tuple(const std::vector<Type>&, const Attrs&) { return Type{DType::b8, {0}}; }

Type infer_tuple_get(const std::vector<Type>&, const Attrs& a) { return Type{a.dtype, a.shape, a.scalar != 0}; }

std::vector<int> float_positions(const std::vector<Type>& ts, int from, int count) {
  std::vector<int> r;
  for (int k = 0; k < count; ++k)
    if (is_float(ts[from + k].dtype)) r.push_back(from + k);
  return r;
}

std::vector<Type> param_types(const Graph& g) {
  std::vector<Type> r;
  for (int p : g.params) r.push_back(g.type(p));
  return r;
}

std::vector<int> vjp_scan(Builder& b, const Node& n, const std::vector<int>& cts) {
  const ScanLayout L(n);
  const Graph& body = *n.sub.at(0);
  const std::vector<Type> bt = param_types(body);
  std::vector<Type> in_t;
  for (int v : n.in) in_t.push_back(b.type(v));

  // 1. The residuals: the carry entering every iteration.
  auto body1 = std::make_shared<Graph>(body);
  std::vector<Type> outs1 = n.outs;
  for (int i = 0; i < L.nc; ++i) {
    body1->outputs.push_back(body.params[i]);
    outs1.push_back(stacked_type(bt[i], L.length));
  }
  auto r1 = b.emit_tuple("scan", n.in, {body1}, n.attrs, outs1);

  // 2. The backward body, in scan layout:
  //    carry [ct of float carries, accumulated ct of float consts]
  //    xs    [residual carries, xs, cts of the ys that have one]
  //    consts [consts]  ->  ys [cts of the float xs]
  const auto wc = float_positions(bt, 0, L.nc), wx = float_positions(bt, L.nc, L.nx),
             wk = float_positions(bt, L.nc + L.nx, L.nk);
  std::vector<char> has_ct(body.outputs.size(), 0);
  for (int i : wc) has_ct[i] = 1;
  std::vector<int> ycts;  // indices j of the ys with a cotangent
  for (int j = 0; j < L.ny; ++j)
    if (cts[L.nc + j] >= 0) { has_ct[L.nc + j] = 1; ycts.push_back(j); }
  std::vector<int> wrt = wc;
  wrt.insert(wrt.end(), wx.begin(), wx.end());
  wrt.insert(wrt.end(), wk.begin(), wk.end());
  GraphPtr vg = subgraph_vjp(body, wrt, has_ct);

  auto body2 = std::make_shared<Graph>();
  std::vector<int> ct_carry, acc, res, xs, ct_y, consts;
  for (int i : wc) ct_carry.push_back(body2->add_param(bt[i], "<ct>"));
  for (int k : wk) acc.push_back(body2->add_param(bt[k], "<ct>"));
  for (int i = 0; i < L.nc; ++i) res.push_back(body2->add_param(bt[i], "<carry>"));
  for (int j = 0; j < L.nx; ++j) xs.push_back(body2->add_param(bt[L.nc + j], "<x>"));
  for (int j : ycts) ct_y.push_back(body2->add_param(body.type(body.outputs[L.nc + j]), "<ct>"));
  for (int k = 0; k < L.nk; ++k) consts.push_back(body2->add_param(bt[L.nc + L.nx + k], "<const>"));
  {
    Builder bb(*body2);
    std::vector<int> vin = res;
    vin.insert(vin.end(), xs.begin(), xs.end());
    vin.insert(vin.end(), consts.begin(), consts.end());
    vin.insert(vin.end(), ct_carry.begin(), ct_carry.end());
    vin.insert(vin.end(), ct_y.begin(), ct_y.end());
    auto m = replay(bb, *vg, vin);
    auto out = [&](size_t k) { return m[vg->outputs[k]]; };
    for (size_t a = 0; a < wc.size(); ++a) body2->outputs.push_back(out(a));
    for (size_t a = 0; a < wk.size(); ++a) body2->outputs.push_back(bb.add(acc[a], out(wc.size() + wx.size() + a)));
    for (size_t a = 0; a < wx.size(); ++a) body2->outputs.push_back(out(wc.size() + a));
  }

  // 3. The reverse scan.
  std::vector<int> in2;
  std::vector<Type> outs2;
  for (int i : wc) {
    in2.push_back(cts[i] >= 0 ? cts[i] : b.full(0, in_t[i]));
    outs2.push_back(in_t[i]);
  }
  for (int k : wk) {
    in2.push_back(b.full(0, in_t[k]));
    outs2.push_back(in_t[k]);
  }
  for (int i = 0; i < L.nc; ++i) in2.push_back(r1[L.nc + L.ny + i]);
  for (int j = 0; j < L.nx; ++j) in2.push_back(n.in[L.nc + j]);
  for (int j : ycts) in2.push_back(cts[L.nc + j]);
  for (int k = 0; k < L.nk; ++k) in2.push_back(n.in[L.nc + L.nx + k]);
  for (int j : wx) outs2.push_back(in_t[j]);
  for (auto& t : outs2) t.weak = false;
  Attrs a2;
  a2.ints = {L.length, (int64_t)(wc.size() + wk.size()), (int64_t)(L.nc + L.nx + ycts.size()), L.reverse ? 0 : 1};
  auto r2 = b.emit_tuple("scan", in2, {body2}, a2, outs2);

  std::vector<int> res_ct(n.in.size(), -1);
  size_t p = 0;
  for (int i : wc) res_ct[i] = r2[p++];
  for (int k : wk) res_ct[k] = r2[p++];
  for (int j : wx) res_ct[j] = r2[p++];
  return res_ct;
}

std::vector<int> vjp_cond(Builder& b, const Node& n, const std::vector<int>& cts) {
  const CondLayout L(n);
  std::vector<Type> in_t;  // without the predicate: [operands, true consts, false consts]
  for (size_t k = 1; k < n.in.size(); ++k) in_t.push_back(b.type(n.in[k]));
  const auto wo = float_positions(in_t, 0, L.no), wt = float_positions(in_t, L.no, L.nt),
             wf = float_positions(in_t, L.no + L.nt, L.nf);
  std::vector<char> has_ct(n.outs.size(), 0);
  std::vector<Type> ct_types;
  for (size_t k = 0; k < n.outs.size(); ++k)
    if (cts[k] >= 0) { has_ct[k] = 1; ct_types.push_back(n.outs[k]); }

  // A backward branch: [operands..., cotangents..., own consts...] ->
  // [cts of float operands, of float true consts, of float false consts].
  auto branch = [&](const Graph& fwd, bool is_true) {
    const int own_from = is_true ? L.no : L.no + L.nt;
    const auto& wown = is_true ? wt : wf;
    std::vector<int> wrt(wo.begin(), wo.end());
    for (int k : wown) wrt.push_back(k - own_from + L.no);  // positions among fwd's params
    GraphPtr vg = subgraph_vjp(fwd, wrt, has_ct);
    auto g2 = std::make_shared<Graph>();
    std::vector<int> ops, ctp, own;
    for (int j = 0; j < L.no; ++j) ops.push_back(g2->add_param(in_t[j], "<operand>"));
    for (auto& t : ct_types) ctp.push_back(g2->add_param(t, "<ct>"));
    for (int k = 0; k < (is_true ? L.nt : L.nf); ++k) own.push_back(g2->add_param(in_t[own_from + k], "<const>"));
    Builder bb(*g2);
    std::vector<int> vin = ops;
    vin.insert(vin.end(), own.begin(), own.end());
    vin.insert(vin.end(), ctp.begin(), ctp.end());
    auto m = replay(bb, *vg, vin);
    size_t p = 0;
    for (size_t a = 0; a < wo.size(); ++a) g2->outputs.push_back(m[vg->outputs[p++]]);
    for (int k : wt) g2->outputs.push_back(is_true ? m[vg->outputs[p++]] : bb.full(0, in_t[k]));
    for (int k : wf) g2->outputs.push_back(!is_true ? m[vg->outputs[p++]] : bb.full(0, in_t[k]));
    return g2;
  };
  GraphPtr t2 = branch(*n.sub.at(0), true), f2 = branch(*n.sub.at(1), false);

  std::vector<int> in2 = {n.in[0]};
  for (int j = 0; j < L.no; ++j) in2.push_back(n.in[1 + j]);
  for (size_t k = 0; k < n.outs.size(); ++k)
    if (cts[k] >= 0) in2.push_back(cts[k]);
  for (int k = 0; k < L.nt + L.nf; ++k) in2.push_back(n.in[1 + L.no + k]);
  std::vector<Type> outs2;
  for (const auto* w : {&wo, &wt, &wf})
    for (int k : *w) {
      outs2.push_back(in_t[k]);
      outs2.back().weak = false;
    }
  Attrs a2;
  a2.ints = {(int64_t)(L.no + ct_types.size()), L.nt, L.nf};
  auto r2 = b.emit_tuple("cond", in2, {t2, f2}, a2, outs2);
  std::vector<int> res(n.in.size(), -1);
  size_t p = 0;
  for (const auto* w : {&wo, &wt, &wf})
    for (int k : *w) res[1 + k] = r2[p++];
  return res;
}

std::vector<int> vjp_while(Builder&, const Node&, const std::vector<int>&) {
  fail("grad", "while_loop() cannot be differentiated in reverse mode: its number of iterations is not known "
               "before it runs (as in JAX). Use scan() or fori_loop() with R-number bounds, whose length is fixed");
}


// ---- forward mode -------------------------------------------------------------------
// Each control node becomes one node of the same kind that carries the
// tangents beside the primal values: its bodies are the forward-mode bodies
// (jvp_graph), every float carry gets a tangent carry (zeros when its initial
// value has none), and inputs that have tangents get tangent inputs. For
// while, the predicate reads the primal carries only: forward mode through a
// loop of unknown length needs no residuals, so it works (as in JAX).

Type strong_type(Type t) {
  t.weak = false;
  return t;
}

// Adds params for positions [from, from + count) of `types` to g, then a
// tangent param for each of them with has_t; returns (param ids, tangent ids or -1).
void add_group(Graph& g, const std::vector<Type>& types, const std::vector<char>& has_t, int from, int count,
               std::vector<int>& P, std::vector<int>& T) {
  for (int i = from; i < from + count; ++i) P[i] = g.add_param(types[i], "<arg>");
  for (int i = from; i < from + count; ++i)
    if (has_t[i]) T[i] = g.add_param(strong_type(types[i]), "<tangent>");
}

// The inputs of jvp_graph's result: the params, then the tangents in order.
std::vector<int> jvp_inputs(const std::vector<int>& P, const std::vector<int>& T) {
  std::vector<int> in = P;
  for (int t : T)
    if (t >= 0) in.push_back(t);
  return in;
}

std::vector<char> float_flags(const std::vector<Type>& ts) {
  std::vector<char> f;
  for (auto& t : ts) f.push_back(is_float(t.dtype));
  return f;
}

std::vector<Type> output_types(const Graph& g) {
  std::vector<Type> r;
  for (int o : g.outputs) r.push_back(g.type(o));
  return r;
}

// Replays jvp_graph result jg into bb; returns (primal outputs, tangent per output or -1).
void replay_jvp(Builder& bb, const Graph& jg, const std::vector<int>& in, const std::vector<char>& want, size_t n_out,
                std::vector<int>& po, std::vector<int>& to) {
  auto m = replay(bb, jg, in);
  po.assign(n_out, -1);
  to.assign(n_out, -1);
  size_t q = n_out;
  for (size_t k = 0; k < n_out; ++k) po[k] = m[jg.outputs[k]];
  for (size_t k = 0; k < n_out; ++k)
    if (want[k]) to[k] = m[jg.outputs[q++]];
}

int tangent_in(Builder& b, int t, int like) { return t >= 0 ? t : b.full(0, strong_type(b.type(like))); }

std::vector<int> jvp_scan(Builder& b, const Node& n, const std::vector<int>& t, std::vector<int>* tout) {
  const ScanLayout L(n);
  const Graph& body = *n.sub.at(0);
  const std::vector<Type> bt = param_types(body);
  std::vector<char> has_t(bt.size(), 0);
  for (int i = 0; i < L.nc; ++i) has_t[i] = is_float(bt[i].dtype);
  for (size_t j = L.nc; j < bt.size(); ++j) has_t[j] = t[j] >= 0 && is_float(bt[j].dtype);
  const std::vector<char> want = float_flags(output_types(body));
  GraphPtr jg = jvp_graph(body, has_t, want);

  auto body2 = std::make_shared<Graph>();
  std::vector<int> P(bt.size(), -1), T(bt.size(), -1);
  add_group(*body2, bt, has_t, 0, L.nc, P, T);
  add_group(*body2, bt, has_t, L.nc, L.nx, P, T);
  add_group(*body2, bt, has_t, L.nc + L.nx, L.nk, P, T);
  std::vector<int> po, to;
  {
    Builder bb(*body2);
    replay_jvp(bb, *jg, jvp_inputs(P, T), want, body.outputs.size(), po, to);
  }
  std::vector<int> in2;
  std::vector<Type> outs2;
  int n_tc = 0, n_tx = 0, n_ty = 0;
  for (int i = 0; i < L.nc; ++i) body2->outputs.push_back(po[i]);
  for (int i = 0; i < L.nc; ++i)
    if (has_t[i]) body2->outputs.push_back(to[i]);
  for (int j = 0; j < L.ny; ++j) body2->outputs.push_back(po[L.nc + j]);
  for (int j = 0; j < L.ny; ++j)
    if (want[L.nc + j]) body2->outputs.push_back(to[L.nc + j]);
  auto group_in = [&](int from, int count, int* n_t) {
    for (int i = from; i < from + count; ++i) in2.push_back(n.in[i]);
    for (int i = from; i < from + count; ++i)
      if (has_t[i]) {
        in2.push_back(tangent_in(b, t[i], n.in[i]));
        ++*n_t;
      }
  };
  int n_tk = 0;
  group_in(0, L.nc, &n_tc);
  group_in(L.nc, L.nx, &n_tx);
  group_in(L.nc + L.nx, L.nk, &n_tk);
  for (int i = 0; i < L.nc; ++i) outs2.push_back(n.outs[i]);
  for (int i = 0; i < L.nc; ++i)
    if (has_t[i]) outs2.push_back(strong_type(n.outs[i]));
  for (int j = 0; j < L.ny; ++j) outs2.push_back(n.outs[L.nc + j]);
  for (int j = 0; j < L.ny; ++j)
    if (want[L.nc + j]) {
      outs2.push_back(strong_type(n.outs[L.nc + j]));
      ++n_ty;
    }
  Attrs a2 = n.attrs;
  a2.ints = {L.length, (int64_t)(L.nc + n_tc), (int64_t)(L.nx + n_tx), L.reverse ? 1 : 0};
  auto r = b.emit_tuple("scan", in2, {body2}, a2, outs2);
  std::vector<int> prim_out;
  tout->assign(n.outs.size(), -1);
  int q = L.nc;
  for (int i = 0; i < L.nc; ++i) {
    prim_out.push_back(r[i]);
    if (has_t[i]) (*tout)[i] = r[q++];
  }
  q = L.nc + n_tc + L.ny;
  for (int j = 0; j < L.ny; ++j) {
    prim_out.push_back(r[L.nc + n_tc + j]);
    if (want[L.nc + j]) (*tout)[L.nc + j] = r[q++];
  }
  return prim_out;
}

std::vector<int> jvp_while(Builder& b, const Node& n, const std::vector<int>& t, std::vector<int>* tout) {
  const WhileLayout L(n);
  const Graph& cond = *n.sub.at(0);
  const Graph& body = *n.sub.at(1);
  std::vector<Type> in_t;
  for (int v : n.in) in_t.push_back(b.type(v));
  // body params: [carries, body consts]
  const std::vector<Type> bt = param_types(body);
  std::vector<char> has_t(bt.size(), 0);
  for (int i = 0; i < L.nc; ++i) has_t[i] = is_float(bt[i].dtype);
  for (int k = 0; k < L.ncb; ++k) has_t[L.nc + k] = t[L.nc + L.ncc + k] >= 0 && is_float(bt[L.nc + k].dtype);
  std::vector<char> want(L.nc);
  for (int i = 0; i < L.nc; ++i) want[i] = has_t[i];
  GraphPtr jg = jvp_graph(body, has_t, want);
  int n_tc = 0, n_tb = 0;
  for (int i = 0; i < L.nc; ++i) n_tc += has_t[i];
  for (int k = 0; k < L.ncb; ++k) n_tb += has_t[L.nc + k];

  // cond2: [carries, tangent carries, cond consts] -> the primal predicate
  auto cond2 = std::make_shared<Graph>();
  {
    const std::vector<Type> ct = param_types(cond);
    std::vector<int> cin;
    for (int i = 0; i < L.nc; ++i) cin.push_back(cond2->add_param(ct[i], "<carry>"));
    for (int i = 0; i < L.nc; ++i)
      if (has_t[i]) cond2->add_param(strong_type(ct[i]), "<tangent>");
    for (int k = 0; k < L.ncc; ++k) cin.push_back(cond2->add_param(ct[L.nc + k], "<const>"));
    Builder cb(*cond2);
    auto m = replay(cb, cond, cin);
    cond2->outputs.push_back(m[cond.outputs.at(0)]);
  }
  // body2: [carries, tangent carries, body consts, their tangents] -> [carries', tangents']
  auto body2 = std::make_shared<Graph>();
  std::vector<int> P(bt.size(), -1), T(bt.size(), -1);
  add_group(*body2, bt, has_t, 0, L.nc, P, T);
  add_group(*body2, bt, has_t, L.nc, L.ncb, P, T);
  {
    Builder bb(*body2);
    std::vector<int> po, to;
    replay_jvp(bb, *jg, jvp_inputs(P, T), want, L.nc, po, to);
    for (int i = 0; i < L.nc; ++i) body2->outputs.push_back(po[i]);
    for (int i = 0; i < L.nc; ++i)
      if (want[i]) body2->outputs.push_back(to[i]);
  }
  std::vector<int> in2;
  std::vector<Type> outs2;
  for (int i = 0; i < L.nc; ++i) in2.push_back(n.in[i]);
  for (int i = 0; i < L.nc; ++i)
    if (has_t[i]) in2.push_back(tangent_in(b, t[i], n.in[i]));
  for (int k = 0; k < L.ncc; ++k) in2.push_back(n.in[L.nc + k]);
  for (int k = 0; k < L.ncb; ++k) in2.push_back(n.in[L.nc + L.ncc + k]);
  for (int k = 0; k < L.ncb; ++k)
    if (has_t[L.nc + k]) in2.push_back(t[L.nc + L.ncc + k]);
  for (int i = 0; i < L.nc; ++i) outs2.push_back(n.outs[i]);
  for (int i = 0; i < L.nc; ++i)
    if (has_t[i]) outs2.push_back(strong_type(n.outs[i]));
  Attrs a2 = n.attrs;
  a2.ints = {(int64_t)(L.nc + n_tc), L.ncc, (int64_t)(L.ncb + n_tb)};
  auto r = b.emit_tuple("while", in2, {cond2, body2}, a2, outs2);
  std::vector<int> prim_out(r.begin(), r.begin() + L.nc);
  tout->assign(L.nc, -1);
  int q = L.nc;
  for (int i = 0; i < L.nc; ++i)
    if (has_t[i]) (*tout)[i] = r[q++];
  return prim_out;
}

std::vector<int> jvp_cond(Builder& b, const Node& n, const std::vector<int>& t, std::vector<int>* tout) {
  const CondLayout L(n);
  std::vector<Type> in_t;  // without the predicate
  std::vector<int> tt;
  for (size_t k = 1; k < n.in.size(); ++k) {
    in_t.push_back(b.type(n.in[k]));
    tt.push_back(t[k]);
  }
  std::vector<char> has(in_t.size(), 0);
  for (size_t k = 0; k < in_t.size(); ++k) has[k] = tt[k] >= 0 && is_float(in_t[k].dtype);
  const std::vector<char> want = float_flags(n.outs);
  auto branch = [&](const Graph& fwd, int own_from, int own_count) {
    std::vector<char> ht(L.no + own_count, 0);
    std::vector<Type> ts;
    for (int j = 0; j < L.no; ++j) { ht[j] = has[j]; ts.push_back(in_t[j]); }
    for (int k = 0; k < own_count; ++k) { ht[L.no + k] = has[own_from + k]; ts.push_back(in_t[own_from + k]); }
    GraphPtr jg = jvp_graph(fwd, ht, want);
    auto g2 = std::make_shared<Graph>();
    std::vector<int> P(ts.size(), -1), T(ts.size(), -1);
    add_group(*g2, ts, ht, 0, L.no, P, T);
    add_group(*g2, ts, ht, L.no, own_count, P, T);
    Builder bb(*g2);
    std::vector<int> po, to;
    replay_jvp(bb, *jg, jvp_inputs(P, T), want, n.outs.size(), po, to);
    for (int v : po) g2->outputs.push_back(v);
    for (size_t k = 0; k < po.size(); ++k)
      if (want[k]) g2->outputs.push_back(to[k]);
    return g2;
  };
  GraphPtr t2 = branch(*n.sub.at(0), L.no, L.nt), f2 = branch(*n.sub.at(1), L.no + L.nt, L.nf);
  std::vector<int> in2 = {n.in[0]};
  int counts[3] = {0, 0, 0};
  const int from[3] = {0, L.no, L.no + L.nt}, cnt[3] = {L.no, L.nt, L.nf};
  for (int gi = 0; gi < 3; ++gi) {
    for (int k = from[gi]; k < from[gi] + cnt[gi]; ++k) in2.push_back(n.in[1 + k]);
    for (int k = from[gi]; k < from[gi] + cnt[gi]; ++k)
      if (has[k]) {
        in2.push_back(tt[k]);
        ++counts[gi];
      }
  }
  std::vector<Type> outs2 = n.outs;
  for (size_t k = 0; k < n.outs.size(); ++k)
    if (want[k]) outs2.push_back(strong_type(n.outs[k]));
  Attrs a2 = n.attrs;
  a2.ints = {(int64_t)(L.no + counts[0]), (int64_t)(L.nt + counts[1]), (int64_t)(L.nf + counts[2])};
  auto r = b.emit_tuple("cond", in2, {t2, f2}, a2, outs2);
  std::vector<int> prim_out(r.begin(), r.begin() + n.outs.size());
  tout->assign(n.outs.size(), -1);
  size_t q = n.outs.size();
  for (size_t k = 0; k < n.outs.size(); ++k)
    if (want[k]) (*tout)[k] = r[q++];
  return prim_out;
}

// ---- batching ----------------------------------------------------------------------
// Bodies are batched with batch_replay; batched values have the batch axis
// last (sliced xs: just before the scanned axis, so that each slice has it
// last). A carry is batched when its initial value is, or when the body makes
// it so (found by iterating to a fixed point). A while loop whose predicate
// is batched runs while any lane goes on, and freezes the lanes that have
// stopped (their carries are kept by a select); a cond with a batched
// predicate runs both branches and selects per lane.

Type batched_type(Type t, int64_t B) {
  t.shape.push_back(B);
  t.weak = false;
  return t;
}

// g batched: its params get a trailing batch axis where batched[k]; outputs
// are batched (trailing axis, broadcast when needed) where force[k], else
// left as they come; *out_b tells which outputs are batched.
GraphPtr batch_body(const Graph& g, const std::vector<char>& batched, int64_t B, const std::vector<char>& force,
                    std::vector<char>* out_b) {
  auto out = std::make_shared<Graph>();
  std::vector<int> ins, axes;
  for (size_t k = 0; k < g.params.size(); ++k) {
    Type t = g.type(g.params[k]);
    ins.push_back(out->add_param(batched[k] ? batched_type(t, B) : t, g.nodes[g.params[k]].label));
    axes.push_back(batched[k] ? t.rank() : -1);
  }
  Builder b(*out);
  std::vector<int> o, oax;
  batch_replay(b, g, ins, axes, &o, &oax);
  out_b->assign(o.size(), 0);
  for (size_t k = 0; k < o.size(); ++k) {
    if (oax[k] >= 0 || (k < force.size() && force[k])) {
      (*out_b)[k] = 1;
      out->outputs.push_back(batch_last(b, o[k], oax[k], B));
    } else {
      out->outputs.push_back(o[k]);
    }
  }
  return out;
}

// A per-lane predicate [B] spread over a batched value [s..., B].
int lane_mask(Builder& b, int pred, int like) {
  const Shape s = b.type(like).shape;
  if (s.size() == 1) return pred;
  Shape ones(s.size(), 1);
  ones.back() = s.back();
  return b.broadcast_to(b.reshape(pred, ones), s);
}

// Carries that end up batched, given which inputs are (fixed point over the body).
std::vector<char> batched_carries(const Graph& body, std::vector<char> batched, int nc, int64_t B) {
  for (int iter = 0; iter <= nc; ++iter) {
    std::vector<char> ob;
    batch_body(body, batched, B, {}, &ob);
    bool changed = false;
    for (int i = 0; i < nc; ++i)
      if (ob[i] && !batched[i]) batched[i] = changed = 1;
    if (!changed) break;
  }
  return batched;
}

std::vector<int> batch_scan(Builder& b, const Node& n, const std::vector<Type>& in_types, const std::vector<int>& v,
                            const std::vector<int>& ax, std::vector<int>* oax) {
  const ScanLayout L(n);
  const int64_t B = batch_size(b, v, ax);
  const Graph& body = *n.sub.at(0);
  std::vector<char> batched(n.in.size());
  for (size_t k = 0; k < n.in.size(); ++k) batched[k] = ax[k] >= 0;
  batched = batched_carries(body, batched, L.nc, B);
  std::vector<char> force(body.outputs.size(), 1), ob;  // carries as decided, every y batched
  for (int i = 0; i < L.nc; ++i) force[i] = batched[i];
  GraphPtr body2 = batch_body(body, batched, B, force, &ob);
  std::vector<int> in2;
  for (size_t k = 0; k < n.in.size(); ++k) {
    int x = v[k];
    const bool is_xs = (int)k >= L.nc && (int)k < L.nc + L.nx;
    if (is_xs && batched[k]) {  // [slice..., B, length]
      const int r = in_types[k].rank();
      in2.push_back(move_axis(b, x, ax[k], r - 1));
    } else {
      in2.push_back(batched[k] ? batch_last(b, x, ax[k], B) : x);
    }
  }
  std::vector<Type> outs2;
  oax->clear();
  for (int i = 0; i < L.nc; ++i) {
    outs2.push_back(batched[i] ? batched_type(n.outs[i], B) : n.outs[i]);
    oax->push_back(batched[i] ? n.outs[i].rank() : -1);
  }
  for (int j = 0; j < L.ny; ++j) {
    Type y = slice_type(n.outs[L.nc + j]);
    outs2.push_back(stacked_type(batched_type(y, B), L.length));
    oax->push_back(y.rank());
  }
  return b.emit_tuple("scan", in2, {body2}, n.attrs, outs2);
}

std::vector<int> batch_while(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                             const std::vector<int>& ax, std::vector<int>* oax) {
  const WhileLayout L(n);
  const int64_t B = batch_size(b, v, ax);
  const Graph& cond = *n.sub.at(0);
  const Graph& body = *n.sub.at(1);
  // body params [carries, body consts]; cond params [carries, cond consts]
  std::vector<char> bb(L.nc + L.ncb), cb(L.nc + L.ncc);
  for (int i = 0; i < L.nc; ++i) bb[i] = ax[i] >= 0;
  for (int k = 0; k < L.ncb; ++k) bb[L.nc + k] = ax[L.nc + L.ncc + k] >= 0;
  bb = batched_carries(body, bb, L.nc, B);
  for (int i = 0; i < L.nc; ++i) cb[i] = bb[i];
  for (int k = 0; k < L.ncc; ++k) cb[L.nc + k] = ax[L.nc + k] >= 0;
  std::vector<char> pb;
  batch_body(cond, cb, B, {}, &pb);
  const bool lanes = pb[0];
  if (lanes)  // every carry is batched: finished lanes keep theirs
    for (int i = 0; i < L.nc; ++i) bb[i] = cb[i] = 1;
  std::vector<char> force(bb.begin(), bb.begin() + L.nc), ob;
  GraphPtr cond2 = batch_body(cond, cb, B, {}, &ob);
  GraphPtr body2 = batch_body(body, bb, B, force, &ob);
  auto arg = [&](int k, bool want) { return want ? batch_last(b, v[k], ax[k], B) : v[k]; };
  std::vector<int> in2;
  for (int i = 0; i < L.nc; ++i) in2.push_back(arg(i, bb[i]));
  std::vector<Type> outs2;
  oax->clear();
  for (int i = 0; i < L.nc; ++i) {
    outs2.push_back(bb[i] ? batched_type(n.outs[i], B) : n.outs[i]);
    oax->push_back(bb[i] ? n.outs[i].rank() : -1);
  }
  if (!lanes) {
    for (int k = 0; k < L.ncc; ++k) in2.push_back(arg(L.nc + k, cb[L.nc + k]));
    for (int k = 0; k < L.ncb; ++k) in2.push_back(arg(L.nc + L.ncc + k, bb[L.nc + k]));
    return b.emit_tuple("while", in2, {cond2, body2}, n.attrs, outs2);
  }
  // Batched predicate: cond' = any lane goes on; body' advances the lanes
  // whose predicate holds. Layout: cond consts [cc], body consts [cc, cb].
  auto cond3 = std::make_shared<Graph>();
  auto body3 = std::make_shared<Graph>();
  std::vector<int> c_car, c_cc, b_car, b_cc, b_cb;
  for (int i = 0; i < L.nc; ++i) {
    c_car.push_back(cond3->add_param(cond2->type(cond2->params[i]), "<carry>"));
    b_car.push_back(body3->add_param(cond2->type(cond2->params[i]), "<carry>"));
  }
  for (int k = 0; k < L.ncc; ++k) {
    c_cc.push_back(cond3->add_param(cond2->type(cond2->params[L.nc + k]), "<const>"));
  }
  for (int k = 0; k < L.ncc; ++k) b_cc.push_back(body3->add_param(cond2->type(cond2->params[L.nc + k]), "<const>"));
  for (int k = 0; k < L.ncb; ++k) b_cb.push_back(body3->add_param(body2->type(body2->params[L.nc + k]), "<const>"));
  {
    Builder cb3(*cond3);
    std::vector<int> in = c_car;
    in.insert(in.end(), c_cc.begin(), c_cc.end());
    auto m = replay(cb3, *cond2, in);
    Attrs all;
    all.ints = {0};
    cond3->outputs.push_back(cb3.emit("reduce_any", {m[cond2->outputs[0]]}, all));
  }
  {
    Builder b3(*body3);
    std::vector<int> cin = b_car, bin = b_car;
    cin.insert(cin.end(), b_cc.begin(), b_cc.end());
    bin.insert(bin.end(), b_cb.begin(), b_cb.end());
    auto mc = replay(b3, *cond2, cin);
    auto mb = replay(b3, *body2, bin);
    int pred = mc[cond2->outputs[0]];
    for (int i = 0; i < L.nc; ++i)
      body3->outputs.push_back(b3.select(lane_mask(b3, pred, b_car[i]), mb[body2->outputs[i]], b_car[i]));
  }
  for (int k = 0; k < L.ncc; ++k) in2.push_back(arg(L.nc + k, cb[L.nc + k]));
  for (int k = 0; k < L.ncc; ++k) in2.push_back(arg(L.nc + k, cb[L.nc + k]));
  for (int k = 0; k < L.ncb; ++k) in2.push_back(arg(L.nc + L.ncc + k, bb[L.nc + k]));
  Attrs a3 = n.attrs;
  a3.ints = {L.nc, L.ncc, (int64_t)(L.ncc + L.ncb)};
  return b.emit_tuple("while", in2, {cond3, body3}, a3, outs2);
}

std::vector<int> batch_cond(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                            const std::vector<int>& ax, std::vector<int>* oax) {
  const CondLayout L(n);
  const int64_t B = batch_size(b, v, ax);
  std::vector<char> force(n.outs.size(), 1), ob;
  oax->clear();
  for (auto& t : n.outs) oax->push_back(t.rank());
  auto branch_flags = [&](int own_from, int own_count) {
    std::vector<char> f;
    for (int j = 0; j < L.no; ++j) f.push_back(ax[1 + j] >= 0);
    for (int k = 0; k < own_count; ++k) f.push_back(ax[1 + own_from + k] >= 0);
    return f;
  };
  const std::vector<char> ft = branch_flags(L.no, L.nt), ff = branch_flags(L.no + L.nt, L.nf);
  if (ax[0] >= 0) {  // a batched predicate: both branches, then a select per lane
    auto run = [&](const Graph& g, int own_from, int own_count) {
      std::vector<int> in, iax, o, oa;
      for (int j = 0; j < L.no; ++j) { in.push_back(v[1 + j]); iax.push_back(ax[1 + j]); }
      for (int k = 0; k < own_count; ++k) { in.push_back(v[1 + own_from + k]); iax.push_back(ax[1 + own_from + k]); }
      batch_replay(b, g, in, iax, &o, &oa);
      for (size_t k = 0; k < o.size(); ++k) o[k] = batch_last(b, o[k], oa[k], B);
      return o;
    };
    std::vector<int> to = run(*n.sub.at(0), L.no, L.nt), fo = run(*n.sub.at(1), L.no + L.nt, L.nf);
    int pred = batch_last(b, v[0], ax[0], B);
    std::vector<int> res;
    for (size_t k = 0; k < to.size(); ++k) res.push_back(b.select(lane_mask(b, pred, to[k]), to[k], fo[k]));
    return res;
  }
  GraphPtr t2 = batch_body(*n.sub.at(0), ft, B, force, &ob);
  GraphPtr f2 = batch_body(*n.sub.at(1), ff, B, force, &ob);
  std::vector<int> in2 = {v[0]};
  for (size_t k = 1; k < v.size(); ++k) in2.push_back(ax[k] >= 0 ? batch_last(b, v[k], ax[k], B) : v[k]);
  std::vector<Type> outs2;
  for (auto& t : n.outs) outs2.push_back(batched_type(t, B));
  return b.emit_tuple("cond", in2, {t2, f2}, n.attrs, outs2);
}

std::string print_scan(const Attrs& a) {
  return "length=" + std::to_string(a.ints.at(0)) + " n_carry=" + std::to_string(a.ints.at(1)) +
         " n_xs=" + std::to_string(a.ints.at(2)) + (a.ints.at(3) ? " reverse" : "");
}
std::string print_while(const Attrs& a) {
  return "n_carry=" + std::to_string(a.ints.at(0)) + " n_cond_consts=" + std::to_string(a.ints.at(1)) +
         " n_body_consts=" + std::to_string(a.ints.at(2));
}
std::string print_cond(const Attrs& a) { return "n_operands=" + std::to_string(a.ints.at(0)); }
std::string print_get(const Attrs& a) { return std::to_string(a.ints.at(0)); }

PrimDef control_prim(const char* name, const char* r_name, VjpTupleFn vjp, std::string (*pr)(const Attrs&),
                     JvpTupleFn jvp, BatchTupleFn batch) {
  PrimDef d;
  d.name = name;
  d.r_name = r_name;
  d.arity = -1;
  d.infer = infer_tuple;
  d.foldable = false;  // run by the executors (src/backend/control.cpp), never folded
  d.no_eval = "a loop or branch over sub-graphs: run by its ControlRunner (src/backend/control.cpp)";
  d.vjp_tuple = vjp;
  d.jvp_tuple = jvp;
  d.batch_tuple = batch;
  d.print_attrs = pr;
  return d;
}

PrimRegistration reg_scan(control_prim("scan", "scan", vjp_scan, print_scan, jvp_scan, batch_scan));
PrimRegistration reg_while(control_prim("while", "while_loop", vjp_while, print_while, jvp_while, batch_while));
PrimRegistration reg_cond(control_prim("cond", "cond", vjp_cond, print_cond, jvp_cond, batch_cond));
PrimRegistration reg_get([] {
  PrimDef d;
  d.name = "tuple_get";
  d.arity = 1;
  d.infer = infer_tuple_get;
  d.foldable = false;
  d.weak_from_infer = true;
  d.print_attrs = print_get;
  d.structural = "reads one output of a tuple node (its cotangent goes to the tuple node's rule)";
  // Its cotangent is collected by the VJP transform for the tuple node.
  return d;
}());

}  // namespace
}  // namespace rj
