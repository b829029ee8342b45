// IR construction, type rules, constant folding, CSE, verification, printing.
#include "test.h"
#include "transforms/passes.h"
#include "util.h"

using namespace rj;

TEST(ir_build_and_types) {
  auto g = rjt::sample_graph();
  verify(*g);
  CHECK_EQ(g->type(g->outputs[0]).str(), std::string("f64[]"));
  CHECK_EQ(g->type(g->outputs[1]).str(), std::string("f64[3,3]"));
  CHECK_EQ(g->inputs().size(), (size_t)2);
  CHECK(!g->type(g->outputs[0]).weak);
}

TEST(ir_shape_and_dtype_errors) {
  Graph g;
  Builder b(g);
  int x = g.add_param(Type{DType::f64, {3, 4}}, "x");
  int y = g.add_param(Type{DType::f64, {4, 3}}, "y");
  int z = g.add_param(Type{DType::f32, {3, 4}}, "z");
  CHECK_THROWS_KIND(b.emit("add", {x, y}), "shape");
  CHECK_THROWS_KIND(r_elementwise(b, "add", {x, z}), "dtype");
  CHECK_THROWS_KIND(b.matmul(x, x), "shape");
  CHECK_THROWS_KIND(b.emit("no_such_primitive", {x}), "internal");
  CHECK_THROWS_KIND(b.emit("exp", {x, y}), "internal");
}

TEST(ir_constant_folding_and_cse) {
  Graph g;
  Builder b(g);
  int two = b.scalar(2, DType::f64);
  int three = b.scalar(3, DType::f64);
  int five = b.add(two, three);
  CHECK(b.is_const_value(five, 5));
  int x = g.add_param(Type{DType::f64, {5}}, "x");
  int a1 = b.emit("exp", {x});
  int a2 = b.emit("exp", {x});
  CHECK_EQ(a1, a2);
  CHECK(b.emit("log", {x}) != a1);
}

TEST(ir_weak_types) {
  Graph g;
  Builder b(g);
  int x = g.add_param(Type{DType::f32, {4}}, "x");
  int w = b.constant(scalar_buffer(DType::f64, 2), true);
  int r = r_elementwise(b, "mul", {x, w});
  CHECK(g.type(r).dtype == DType::f32);  // the weak R number adopts f32
  CHECK(!g.type(r).weak);
  int ww = r_elementwise(b, "add", {w, w});
  CHECK(g.type(ww).weak);
}

TEST(ir_verify_catches_bad_types) {
  auto g = rjt::sample_graph();
  verify(*g);
  g->nodes[g->outputs[0]].type.dtype = DType::f32;
  CHECK_THROWS_KIND(verify(*g), "internal");
  auto h = rjt::sample_graph();
  h->nodes.back().in[0] = (int)h->nodes.size() + 3;
  CHECK_THROWS_KIND(verify(*h), "internal");
}

TEST(printer) {
  auto g = rjt::sample_graph();
  std::string s = print_graph(*optimize(*g));
  CHECK(s.find("{ lambda") == 0);
  CHECK(s.find("exp") != std::string::npos);
  CHECK(s.find("matmul") != std::string::npos);
  CHECK(s.find("f64[3,4]") != std::string::npos);
  CHECK(s.find("2.5") != std::string::npos);
}

TEST(transforms_vjp_dce) {
  // d/dx sum(exp(x) * y + 2.5) = exp(x) * y
  auto g = rjt::sample_graph();
  g->outputs = {g->outputs[0]};
  auto v = optimize(*vjp(*g, {0}));
  verify(*v);
  CHECK_EQ(v->outputs.size(), (size_t)2);
  auto x = rjt::vec(DType::f64, {3, 4}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2});
  auto y = rjt::vec(DType::f64, {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto res = compile(v, "interp")->run({x, y});
  bool ok = true;
  for (int i = 0; i < 12; ++i) ok = ok && rjt::close(res[1]->as<double>()[i], std::exp(x->as<double>()[i]) * y->as<double>()[i], 1e-14);
  CHECK(ok);
}
