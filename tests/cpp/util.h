// Small graph-building helpers shared by the C++ unit tests.
#pragma once
#include <cmath>

#include "backend/backend.h"
#include "ir/ir.h"

namespace rjt {

inline rj::BufferPtr vec(rj::DType d, const rj::Shape& s, const std::vector<double>& xs) {
  auto b = rj::make_buffer(d, s);
  for (size_t i = 0; i < xs.size() && (int64_t)i < b->size(); ++i) {
    switch (d) {
      case rj::DType::f32: b->as<float>()[i] = (float)xs[i]; break;
      case rj::DType::f64: b->as<double>()[i] = xs[i]; break;
      case rj::DType::i32: b->as<int32_t>()[i] = (int32_t)xs[i]; break;
      case rj::DType::b8: b->as<uint8_t>()[i] = xs[i] != 0; break;
    }
  }
  return b;
}

// sum(exp(x) * y + 2.5) with x, y: f64[n, m]; also returns x %*% t(y)... as a second output.
inline rj::GraphPtr sample_graph(rj::DType d = rj::DType::f64, int64_t n = 3, int64_t m = 4) {
  auto g = std::make_shared<rj::Graph>();
  rj::Builder b(*g);
  int x = g->add_param(rj::Type{d, {n, m}}, "x");
  int y = g->add_param(rj::Type{d, {n, m}}, "params$y");
  int c = b.constant(rj::scalar_buffer(d, 2.5), true);
  int e = b.add(b.mul(b.emit("exp", {x}), y), c);
  int s = b.sum(e, {0, 1});
  int mm = b.matmul(x, y, false, true);
  g->outputs = {s, mm};
  return g;
}

inline bool close(double a, double b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= rel * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

}  // namespace rjt
