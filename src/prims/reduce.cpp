// Reductions over a set of axes (attrs.ints, sorted, 0-based); the reduced
// axes are dropped from the shape. sum(x) reduces every axis to a rank-0
// scalar, colSums(x) reduces axis 0 of a matrix, rowSums(x) axis 1.
#include <algorithm>
#include <limits>

#include "prim_util.h"

namespace rj {
namespace {

Type infer_reduce(const std::vector<Type>& in, const Attrs& a) {
  const Shape& s = in[0].shape;
  std::vector<char> drop(s.size(), 0);
  int64_t prev = -1;
  for (auto ax : a.ints) {
    if (ax < 0 || ax >= (int64_t)s.size() || ax <= prev)
      fail("shape", "reduction axes (" + shape_str(a.ints) + ") do not fit an array of shape [" + shape_str(s) + "]");
    drop[ax] = 1;
    prev = ax;
  }
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!drop[i]) out.push_back(s[i]);
  DType d = in[0].dtype == DType::b8 ? DType::i32 : in[0].dtype;
  return Type{d, out};
}

// Column-major view of a reduction as (inner, red, outer) blocks when the
// reduced axes are contiguous; the general case walks a multi-index.
template <class T, class Acc, class Op>
void reduce_kernel(const Buffer& x, Buffer& out, const Attrs& a, Acc init, Op op) {
  const Shape& s = x.shape;
  const T* xp = x.as<T>();
  int64_t n_out = out.size();
  T* yp = out.as<T>();
  // Full reduction: deterministic blocked partial sums (independent of threads).
  if (n_out == 1 && (int64_t)a.ints.size() == (int64_t)s.size()) {
    int64_t n = x.size(), block = 1 << 14, nb = (n + block - 1) / block;
    std::vector<Acc> part(std::max<int64_t>(nb, 1), init);
    parallel_for(nb, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        Acc acc = init;
        int64_t e = std::min(n, (k + 1) * block);
        for (int64_t i = k * block; i < e; ++i) acc = op(acc, (Acc)xp[i]);
        part[k] = acc;
      }
    }, 4);
    Acc acc = init;
    for (auto p : part) acc = op(acc, p);
    yp[0] = (T)acc;
    return;
  }
  std::vector<Acc> acc(n_out, init);
  // Strides of the output for each input axis (0 on reduced axes).
  std::vector<int64_t> ostride(s.size(), 0);
  int64_t st = 1;
  for (size_t i = 0, k = 0; i < s.size(); ++i) {
    bool red = k < a.ints.size() && a.ints[k] == (int64_t)i;
    if (red) ++k;
    else { ostride[i] = st; st *= s[i]; }
  }
  int64_t n = x.size();
  if (s.size() == 2 && a.ints.size() == 1 && a.ints[0] == 0) {  // colSums
    int64_t r = s[0], c = s[1];
    parallel_for(c, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        Acc v = init;
        for (int64_t i = 0; i < r; ++i) v = op(v, (Acc)xp[i + j * r]);
        acc[j] = v;
      }
    }, 16);
  } else {
    std::vector<int64_t> idx(s.size(), 0);
    int64_t o = 0;
    for (int64_t i = 0; i < n; ++i) {
      acc[o] = op(acc[o], (Acc)xp[i]);
      for (size_t d = 0; d < s.size(); ++d) {  // increment the multi-index
        if (++idx[d] < s[d]) { o += ostride[d]; break; }
        o -= ostride[d] * (s[d] - 1);
        idx[d] = 0;
      }
    }
  }
  for (int64_t i = 0; i < n_out; ++i) yp[i] = (T)acc[i];
}

template <class Op>
void run_reduce(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a, double init, Op op) {
  const Buffer& x = *in[0];
  switch (x.dtype) {
    case DType::f32: reduce_kernel<float, double>(x, out, a, init, op); break;  // accumulate f32 in f64
    case DType::f64: reduce_kernel<double, double>(x, out, a, init, op); break;
    case DType::i32: reduce_kernel<int32_t, double>(x, out, a, init, op); break;
    case DType::b8: {  // bool reduces as i32 (R: sum(TRUE, TRUE) is 2L)
      Buffer tmp(DType::i32, x.shape);
      for (int64_t i = 0; i < x.size(); ++i) tmp.as<int32_t>()[i] = x.as<uint8_t>()[i];
      reduce_kernel<int32_t, double>(tmp, out, a, init, op);
      break;
    }
  }
}

const double inf = std::numeric_limits<double>::infinity();
void k_sum(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  run_reduce(in, out, a, 0.0, [](double s, double v) { return s + v; });
}
void k_prod(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  run_reduce(in, out, a, 1.0, [](double s, double v) { return s * v; });
}
void k_max(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  run_reduce(in, out, a, -inf, [](double s, double v) { return (s != s || v != v) ? s + v : (v > s ? v : s); });
}
void k_min(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  run_reduce(in, out, a, inf, [](double s, double v) { return (s != s || v != v) ? s + v : (v < s ? v : s); });
}

// Shape of x with the reduced axes kept as 1s, so cotangents broadcast back.
Shape keep_dims(const Shape& s, const std::vector<int64_t>& axes) {
  Shape k = s;
  for (auto ax : axes) k[ax] = 1;
  return k;
}

int expand_back(Builder& b, int v, const Node& n) {
  const Shape s = b.type(n.in[0]).shape;  // a copy: reshape() may grow the node vector
  return b.broadcast_to(b.reshape(v, keep_dims(s, n.attrs.ints)), s);
}

std::vector<int> vjp_sum(Builder& b, const Node& n, int, int g) {
  if (!is_float(b.type(n.in[0]).dtype)) return {-1};
  return {expand_back(b, g, n)};
}

// max/min: the cotangent is shared evenly among the elements that attain it.
std::vector<int> vjp_extreme(Builder& b, const Node& n, int y, int g) {
  int x = n.in[0];
  if (!is_float(b.type(x).dtype)) return {-1};
  DType d = b.type(x).dtype;
  int mask = b.convert(b.emit("eq", {x, expand_back(b, y, n)}), d);
  int count = expand_back(b, b.sum(mask, n.attrs.ints), n);
  return {b.mul(b.div(mask, count), expand_back(b, g, n))};
}

// prod: d/dx_i prod(x) = prod(x) / x_i (undefined where x_i == 0, as documented).
std::vector<int> vjp_prod(Builder& b, const Node& n, int y, int g) {
  int x = n.in[0];
  if (!is_float(b.type(x).dtype)) return {-1};
  return {b.div(expand_back(b, b.mul(g, y), n), x)};
}

std::string print_axes(const Attrs& a) { return ints_attr("axes", a.ints); }

PrimDef red(const char* name, EvalFn eval, VjpFn vjp) { return make_prim(name, 1, infer_reduce, eval, vjp, print_axes); }

PrimRegistration regs[] = {
    PrimRegistration(red("reduce_sum", k_sum, vjp_sum)),
    PrimRegistration(red("reduce_prod", k_prod, vjp_prod)),
    PrimRegistration(red("reduce_max", k_max, vjp_extreme)),
    PrimRegistration(red("reduce_min", k_min, vjp_extreme)),
};

}  // namespace
}  // namespace rj
