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

PrimDef control_prim(const char* name, const char* r_name, VjpTupleFn vjp, std::string (*pr)(const Attrs&)) {
  PrimDef d;
  d.name = name;
  d.r_name = r_name;
  d.arity = -1;
  d.infer = infer_tuple;
  d.foldable = false;  // run by the executors (src/backend/control.cpp), never folded
  d.no_eval = "a loop or branch over sub-graphs: run by its ControlRunner (src/backend/control.cpp)";
  d.vjp_tuple = vjp;
  d.print_attrs = pr;
  return d;
}

PrimRegistration reg_scan(control_prim("scan", "scan", vjp_scan, print_scan));
PrimRegistration reg_while(control_prim("while", "while_loop", vjp_while, print_while));
PrimRegistration reg_cond(control_prim("cond", "cond", vjp_cond, print_cond));
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
