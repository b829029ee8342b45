// Graph construction for front ends (src/transforms/trace_build.h,
// src/backend/eager.h): control-flow nodes with captured values, custom_vjp
// nodes, inlining, eager evaluation of non-foldable nodes.
#include "backend/eager.h"
#include "ir/serialize.h"
#include "test.h"
#include "transforms/passes.h"
#include "transforms/trace_build.h"
#include "util.h"

using namespace rj;

TEST(build_scan_with_captures) {
  // outer trace: x f64[3], w f64[]; scan over 4 steps of carry c: c' = c * w + 1
  // (w captured by the body), ys = c.
  auto outer = std::make_shared<Graph>();
  outer->level = 1;
  int x = outer->add_param(Type{DType::f64, {3}}, "x");
  int w = outer->add_param(Type{DType::f64, {}}, "w");
  auto body = std::make_shared<Graph>();
  body->level = 2;
  {
    Builder bb(*body);
    int c = body->add_param(Type{DType::f64, {3}}, "c");
    int wc = body->capture(outer.get(), w);
    body->outputs = {bb.add(bb.mul(c, wc), bb.scalar(1, DType::f64)), c};
    body->closed = true;
  }
  auto outs = build_control(*outer, "scan", {body}, {x}, {4, 0, 0});
  CHECK_EQ(outs.size(), (size_t)2);
  CHECK_EQ(outer->type(outs[1]).str(), std::string("f64[3,4]"));
  outer->outputs = outs;
  verify_strict(*outer, "internal");
  auto r = compile(optimize(*outer), "interp")->run({rjt::vec(DType::f64, {3}, {1, 2, 3}), scalar_buffer(DType::f64, 2)});
  CHECK_EQ(r[0]->as<double>()[0], 31.0);  // 1 -> 3 -> 7 -> 15 -> 31
  CHECK_EQ(r[1]->as<double>()[3 * 3 + 0], 15.0);
  CHECK_THROWS_KIND(build_control(*outer, "loop", {body}, {x}, {}), "internal");
}

TEST(build_custom_vjp_and_inline) {
  auto f = std::make_shared<Graph>();
  {
    Builder fb(*f);
    int a = f->add_param(Type{DType::f64, {2}}, "a");
    f->outputs = {fb.sum(fb.emit("exp", {a}), {0})};
  }
  auto g = std::make_shared<Graph>();
  g->level = 1;
  Builder b(*g);
  int x = g->add_param(Type{DType::f64, {2}}, "x");
  int n = build_custom_vjp(*g, f, f, f, {x});
  CHECK_EQ(g->type(n).str(), std::string("f64[]"));
  auto ins = inline_graph(b, *f, {x});
  g->outputs = {n, ins[0]};
  auto r = compile(optimize(*g), "interp")->run({rjt::vec(DType::f64, {2}, {0, 1})});
  CHECK(rjt::close(r[0]->as<double>()[0], 1 + std::exp(1.0), 1e-15));
  CHECK_EQ(r[0]->as<double>()[0], r[1]->as<double>()[0]);
  CHECK_THROWS_KIND(build_custom_vjp(*g, f, f, f, {x, x}), "internal");
}

TEST(eager_eval_and_convert) {
  Graph g;
  Builder b(g);
  int s = b.scalar(1.5, DType::f64);
  int big = b.broadcast_to(s, {100, 100});  // an expansion: not folded
  CHECK(!b.is_const(big));
  auto v = eval_nodes(g, {big});
  CHECK_EQ(v[0]->size(), (int64_t)10000);
  CHECK_EQ(v[0]->as<double>()[9999], 1.5);
  auto c = convert_buffer(rjt::vec(DType::f64, {2}, {2.7, -1}), DType::i32);
  CHECK_EQ(c->as<int32_t>()[0], 2);
  CHECK(c->dtype == DType::i32);
}
