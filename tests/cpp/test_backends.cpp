// Evaluation of primitives on both backends (interp and llvm) against
// values computed here in plain C++, and agreement of the two backends.
#include <cmath>

#include "test.h"
#include "transforms/passes.h"
#include "util.h"

using namespace rj;

namespace {

std::vector<BufferPtr> run_on(const GraphPtr& g, const std::string& backend, const std::vector<BufferPtr>& in) {
  return compile(optimize(*g), backend)->run(in);
}

const char* kBackends[] = {"interp", "llvm"};

}  // namespace

TEST(eval_elementwise_and_reduce) {
  auto g = rjt::sample_graph();
  auto x = rjt::vec(DType::f64, {3, 4}, {0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9, 1.0, 1.1, -1.2});
  auto y = rjt::vec(DType::f64, {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  double want = 0;
  for (int i = 0; i < 12; ++i) want += std::exp(x->as<double>()[i]) * y->as<double>()[i] + 2.5;
  double mm01 = 0;  // (x %*% t(y))[0, 1]
  for (int k = 0; k < 4; ++k) mm01 += x->as<double>()[0 + 3 * k] * y->as<double>()[1 + 3 * k];
  for (const char* be : kBackends) {
    auto r = run_on(g, be, {x, y});
    CHECK_EQ(r.size(), (size_t)2);
    CHECK(rjt::close(r[0]->as<double>()[0], want, 1e-13));
    CHECK(rjt::close(r[1]->as<double>()[0 + 3 * 1], mm01, 1e-13));
  }
}

TEST(eval_f32_integer_bool) {
  // f32 exp, integer addition with R's NA on overflow, comparisons
  auto g = std::make_shared<Graph>();
  Builder b(*g);
  int x = g->add_param(Type{DType::f32, {5}}, "x");
  int i = g->add_param(Type{DType::i32, {5}}, "i");
  int e = b.emit("exp", {x});
  int s = r_elementwise(b, "add", {i, i});
  int c = r_elementwise(b, "gt", {x, b.constant(scalar_buffer(DType::f64, 0.25), true)});
  g->outputs = {e, s, c};
  auto xb = rjt::vec(DType::f32, {5}, {0, 0.5, -1, 2, 3});
  auto ib = rjt::vec(DType::i32, {5}, {1, -2, 3, 1 << 30, 7});
  for (const char* be : kBackends) {
    auto r = run_on(g, be, {xb, ib});
    bool ok = true;
    for (int k = 0; k < 5; ++k) ok = ok && rjt::close(r[0]->as<float>()[k], std::exp(xb->as<float>()[k]), 1e-6);
    CHECK(ok);
    CHECK_EQ(r[1]->as<int32_t>()[1], -4);
    CHECK_EQ(r[1]->as<int32_t>()[3], kNAInt);  // 2^31 overflows: NA, as R
    CHECK_EQ((int)r[2]->as<uint8_t>()[1], 1);
    CHECK_EQ((int)r[2]->as<uint8_t>()[2], 0);
  }
}

TEST(eval_backends_agree) {
  auto g = rjt::sample_graph(DType::f64, 37, 29);
  std::vector<double> xs(37 * 29), ys(37 * 29);
  for (size_t k = 0; k < xs.size(); ++k) {
    xs[k] = std::sin((double)k) * 0.5;
    ys[k] = std::cos((double)k * 0.3);
  }
  auto x = rjt::vec(DType::f64, {37, 29}, xs), y = rjt::vec(DType::f64, {37, 29}, ys);
  auto a = run_on(g, "interp", {x, y}), l = run_on(g, "llvm", {x, y});
  CHECK(rjt::close(a[0]->as<double>()[0], l[0]->as<double>()[0], 1e-12));
  bool ok = true;
  for (int64_t k = 0; k < a[1]->size(); ++k) ok = ok && rjt::close(a[1]->as<double>()[k], l[1]->as<double>()[k], 1e-12);
  CHECK(ok);
}

TEST(eval_input_checks) {
  auto g = rjt::sample_graph();
  auto exe = compile(optimize(*g), "interp");
  auto bad = rjt::vec(DType::f64, {4, 3}, {});
  CHECK_THROWS_MSG(exe->run({bad, bad}), "internal", "signature");
}
