// Element-wise primitives: unary math, binary arithmetic and comparison,
// select and convert. Operands have the output's shape or are rank-0 scalars
// (implicit broadcast). Each definition holds its type rule, interpreter
// kernel and VJP rule.
#include <cstring>
#include <limits>

#include "prim_util.h"
#include "special.h"

namespace rj {
namespace {

// ---- type rules ----------------------------------------------------------------

Shape ew_shape(const std::vector<Type>& in, const std::string& op) {
  Shape out;
  for (auto& t : in)
    if (!t.shape.empty()) {
      if (!out.empty() && out != t.shape)
        fail("shape", op + ": operands of shapes [" + shape_str(out) + "] and [" + shape_str(t.shape) + "] differ");
      out = t.shape;
    }
  return out;
}

Type infer_unary_same(const std::vector<Type>& in, const Attrs&) { return Type{in[0].dtype, in[0].shape}; }

Type infer_unary_float(const std::vector<Type>& in, const Attrs&) {
  if (!is_float(in[0].dtype)) fail("dtype", std::string("math function needs a float input, got ") + dtype_name(in[0].dtype));
  return Type{in[0].dtype, in[0].shape};
}

Type infer_unary_bool(const std::vector<Type>& in, const Attrs&) { return Type{DType::b8, in[0].shape}; }

Type infer_binary_same(const std::vector<Type>& in, const Attrs&) {
  if (in[0].dtype != in[1].dtype)
    fail("dtype", std::string("operands have dtypes ") + dtype_name(in[0].dtype) + " and " + dtype_name(in[1].dtype));
  return Type{in[0].dtype, ew_shape(in, "binary op")};
}

Type infer_binary_float(const std::vector<Type>& in, const Attrs& a) {
  Type t = infer_binary_same(in, a);
  if (!is_float(t.dtype)) fail("dtype", std::string("operator needs float operands, got ") + dtype_name(t.dtype));
  return t;
}

Type infer_compare(const std::vector<Type>& in, const Attrs& a) {
  Type t = infer_binary_same(in, a);
  t.dtype = DType::b8;
  return t;
}

Type infer_logic(const std::vector<Type>& in, const Attrs& a) {
  if (in[0].dtype != DType::b8 || in[1].dtype != DType::b8) fail("dtype", "logical operator needs bool operands");
  return infer_compare(in, a);
}

Type infer_select(const std::vector<Type>& in, const Attrs&) {
  if (in[0].dtype != DType::b8) fail("dtype", "select: the predicate must be bool");
  if (in[1].dtype != in[2].dtype)
    fail("dtype", std::string("select: branches have dtypes ") + dtype_name(in[1].dtype) + " and " + dtype_name(in[2].dtype));
  return Type{in[1].dtype, ew_shape(in, "select")};
}

Type infer_convert(const std::vector<Type>& in, const Attrs& a) { return Type{a.dtype, in[0].shape}; }

// ---- kernels -------------------------------------------------------------------

template <class TI, class TO, class F>
void map1(const Buffer& a, Buffer& o, F f) {
  const TI* x = a.as<TI>();
  TO* y = o.as<TO>();
  parallel_for(o.size(), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = (TO)f(x[i]);
  });
}

template <class TI, class TO, class F>
void map2(const Buffer& a, const Buffer& b, Buffer& o, F f) {
  const TI* x = a.as<TI>();
  const TI* z = b.as<TI>();
  TO* y = o.as<TO>();
  int64_t n = o.size();
  bool sa = a.size() == 1 && n != 1, sb = b.size() == 1 && n != 1;
  parallel_for(n, [&](int64_t lo, int64_t hi) {
    if (sa) {
      TI xs = x[0];
      for (int64_t i = lo; i < hi; ++i) y[i] = (TO)f(xs, z[i]);
    } else if (sb) {
      TI zs = z[0];
      for (int64_t i = lo; i < hi; ++i) y[i] = (TO)f(x[i], zs);
    } else {
      for (int64_t i = lo; i < hi; ++i) y[i] = (TO)f(x[i], z[i]);
    }
  });
}

// Unary kernels over floats; F is a generic lambda.
#define FLOAT_UNARY(NAME, EXPR)                                                              \
  void NAME(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {             \
    dispatch_float(in[0]->dtype, #NAME, [&](auto z) {                                        \
      using T = decltype(z);                                                                 \
      map1<T, T>(*in[0], out, [](T x) -> T { return EXPR; });                                \
    });                                                                                      \
  }

FLOAT_UNARY(k_exp, std::exp(x))
FLOAT_UNARY(k_log, std::log(x))
FLOAT_UNARY(k_log1p, std::log1p(x))
FLOAT_UNARY(k_expm1, std::expm1(x))
FLOAT_UNARY(k_sqrt, std::sqrt(x))
FLOAT_UNARY(k_sin, std::sin(x))
FLOAT_UNARY(k_cos, std::cos(x))
FLOAT_UNARY(k_tan, std::tan(x))
FLOAT_UNARY(k_asin, std::asin(x))
FLOAT_UNARY(k_acos, std::acos(x))
FLOAT_UNARY(k_atan, std::atan(x))
FLOAT_UNARY(k_sinh, std::sinh(x))
FLOAT_UNARY(k_cosh, std::cosh(x))
FLOAT_UNARY(k_tanh, std::tanh(x))
FLOAT_UNARY(k_asinh, std::asinh(x))
FLOAT_UNARY(k_acosh, std::acosh(x))
FLOAT_UNARY(k_atanh, std::atanh(x))
FLOAT_UNARY(k_lgamma, (T)lgamma_r_safe((double)x))
FLOAT_UNARY(k_gamma, std::tgamma(x))
FLOAT_UNARY(k_digamma, (T)digamma((double)x))
FLOAT_UNARY(k_trigamma, (T)trigamma((double)x))
FLOAT_UNARY(k_floor, std::floor(x))
FLOAT_UNARY(k_ceiling, std::ceil(x))
FLOAT_UNARY(k_round, std::nearbyint(x))
FLOAT_UNARY(k_trunc, std::trunc(x))
#undef FLOAT_UNARY

// Kernels valid for every numeric dtype.
#define ANY_UNARY(NAME, EXPR)                                                                \
  void NAME(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {             \
    dispatch(in[0]->dtype, [&](auto z) {                                                     \
      using T = decltype(z);                                                                 \
      map1<T, T>(*in[0], out, [](T x) -> T { return EXPR; });                                \
    });                                                                                      \
  }
ANY_UNARY(k_neg, (T)(-x))
ANY_UNARY(k_abs, x < 0 ? (T)(-x) : x)
ANY_UNARY(k_sign, (T)(x != x ? x : (x > 0) - (x < 0)))
#undef ANY_UNARY

// stop_gradient: the identity on values; its VJP gives no cotangent.
void k_identity(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  if (out.nbytes()) std::memcpy(out.data, in[0]->data, out.nbytes());
}

void k_not(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  map1<uint8_t, uint8_t>(*in[0], out, [](uint8_t x) { return !x; });
}

void k_is_nan(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch(in[0]->dtype, [&](auto z) {
    using T = decltype(z);
    map1<T, uint8_t>(*in[0], out, [](T x) { return x != x; });
  });
}

void k_is_finite(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch(in[0]->dtype, [&](auto z) {
    using T = decltype(z);
    map1<T, uint8_t>(*in[0], out, [](T x) { return std::isfinite((double)x); });
  });
}

void k_convert(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch(in[0]->dtype, [&](auto zi) {
    using TI = decltype(zi);
    dispatch(out.dtype, [&](auto zo) {
      using TO = decltype(zo);
      if (std::is_same<TO, uint8_t>::value)
        map1<TI, TO>(*in[0], out, [](TI x) { return (TO)(x != 0); });
      else
        map1<TI, TO>(*in[0], out, [](TI x) { return (TO)x; });
    });
  });
}

template <class T> T r_mod(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    return (T)r_fmod((double)a, (double)b);
  } else {
    if (b == 0) return 0;
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}
template <class T> T r_idiv(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) return (T)r_ffloor((double)a, (double)b);
  else {
    if (b == 0) return 0;
    T q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
}
template <class T> T nan_max(T a, T b) { return (a != a || b != b) ? (a != a ? a : b) : (a > b ? a : b); }
template <class T> T nan_min(T a, T b) { return (a != a || b != b) ? (a != a ? a : b) : (a < b ? a : b); }

#define ANY_BINARY(NAME, EXPR)                                                               \
  void NAME(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {             \
    dispatch(in[0]->dtype, [&](auto z) {                                                     \
      using T = decltype(z);                                                                 \
      map2<T, T>(*in[0], *in[1], out, [](T a, T b) -> T { return EXPR; });                   \
    });                                                                                      \
  }
ANY_BINARY(k_add, (T)(a + b))
ANY_BINARY(k_sub, (T)(a - b))
ANY_BINARY(k_mul, (T)(a * b))
ANY_BINARY(k_div, (T)(b == 0 && !std::is_floating_point<T>::value ? 0 : a / b))
ANY_BINARY(k_max, nan_max(a, b))
ANY_BINARY(k_min, nan_min(a, b))
ANY_BINARY(k_mod, r_mod(a, b))
ANY_BINARY(k_idiv, r_idiv(a, b))
#undef ANY_BINARY

void k_pow(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(in[0]->dtype, "^", [&](auto z) {
    using T = decltype(z);
    map2<T, T>(*in[0], *in[1], out, [](T a, T b) -> T {
      if (b == 2) return a * a;  // exact, and what R does for x^2
      return std::pow(a, b);
    });
  });
}

void k_atan2(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(in[0]->dtype, "atan2", [&](auto z) {
    using T = decltype(z);
    map2<T, T>(*in[0], *in[1], out, [](T a, T b) -> T { return std::atan2(a, b); });
  });
}

#define COMPARE(NAME, EXPR)                                                                  \
  void NAME(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {             \
    dispatch(in[0]->dtype, [&](auto z) {                                                     \
      using T = decltype(z);                                                                 \
      map2<T, uint8_t>(*in[0], *in[1], out, [](T a, T b) -> uint8_t { return EXPR; });       \
    });                                                                                      \
  }
COMPARE(k_eq, a == b)
COMPARE(k_ne, a != b)
COMPARE(k_lt, a < b)
COMPARE(k_le, a <= b)
COMPARE(k_gt, a > b)
COMPARE(k_ge, a >= b)
COMPARE(k_and, a && b)
COMPARE(k_or, a || b)
#undef COMPARE

void k_select(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  const uint8_t* p = in[0]->as<uint8_t>();
  int64_t n = out.size();
  bool sp = in[0]->size() == 1 && n != 1, sa = in[1]->size() == 1 && n != 1, sb = in[2]->size() == 1 && n != 1;
  dispatch(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T* a = in[1]->as<T>();
    const T* b = in[2]->as<T>();
    T* y = out.as<T>();
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = p[sp ? 0 : i] ? a[sa ? 0 : i] : b[sb ? 0 : i];
    });
  });
}

// ---- VJP rules -------------------------------------------------------------------
// x: the input, y: the output, g: the output's cotangent (all in the new graph).

int sc(Builder& b, double v, int like) { return b.scalar(v, b.type(like).dtype); }
int E(Builder& b, const char* p, int x) { return b.emit(p, {x}); }

std::vector<int> vjp_neg(Builder& b, const Node&, int, int g) { return {b.neg(g)}; }
std::vector<int> vjp_exp(Builder& b, const Node&, int y, int g) { return {b.mul(g, y)}; }
std::vector<int> vjp_log(Builder& b, const Node& n, int, int g) { return {b.div(g, n.in[0])}; }
std::vector<int> vjp_log1p(Builder& b, const Node& n, int, int g) {
  return {b.div(g, b.add(n.in[0], sc(b, 1, g)))};
}
std::vector<int> vjp_expm1(Builder& b, const Node&, int y, int g) { return {b.mul(g, b.add(y, sc(b, 1, g)))}; }
std::vector<int> vjp_sqrt(Builder& b, const Node&, int y, int g) { return {b.div(b.mul(g, sc(b, 0.5, g)), y)}; }
std::vector<int> vjp_abs(Builder& b, const Node& n, int, int g) { return {b.mul(g, E(b, "sign", n.in[0]))}; }
std::vector<int> vjp_zero(Builder&, const Node& n, int, int) { return std::vector<int>(n.in.size(), -1); }
std::vector<int> vjp_sin(Builder& b, const Node& n, int, int g) { return {b.mul(g, E(b, "cos", n.in[0]))}; }
std::vector<int> vjp_cos(Builder& b, const Node& n, int, int g) { return {b.neg(b.mul(g, E(b, "sin", n.in[0])))}; }
std::vector<int> vjp_tan(Builder& b, const Node&, int y, int g) {
  return {b.mul(g, b.add(sc(b, 1, g), b.mul(y, y)))};
}
int inv_sqrt_of(Builder& b, int v) { return b.div(sc(b, 1, v), E(b, "sqrt", v)); }
std::vector<int> vjp_asin(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  return {b.mul(g, inv_sqrt_of(b, b.sub(sc(b, 1, x), b.mul(x, x))))};
}
std::vector<int> vjp_acos(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  return {b.neg(b.mul(g, inv_sqrt_of(b, b.sub(sc(b, 1, x), b.mul(x, x)))))};
}
std::vector<int> vjp_atan(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  return {b.div(g, b.add(sc(b, 1, x), b.mul(x, x)))};
}
std::vector<int> vjp_sinh(Builder& b, const Node& n, int, int g) { return {b.mul(g, E(b, "cosh", n.in[0]))}; }
std::vector<int> vjp_cosh(Builder& b, const Node& n, int, int g) { return {b.mul(g, E(b, "sinh", n.in[0]))}; }
std::vector<int> vjp_tanh(Builder& b, const Node&, int y, int g) {
  return {b.mul(g, b.sub(sc(b, 1, y), b.mul(y, y)))};
}
std::vector<int> vjp_asinh(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  return {b.mul(g, inv_sqrt_of(b, b.add(b.mul(x, x), sc(b, 1, x))))};
}
std::vector<int> vjp_acosh(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  return {b.mul(g, inv_sqrt_of(b, b.sub(b.mul(x, x), sc(b, 1, x))))};
}
std::vector<int> vjp_atanh(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  return {b.div(g, b.sub(sc(b, 1, x), b.mul(x, x)))};
}
std::vector<int> vjp_lgamma(Builder& b, const Node& n, int, int g) { return {b.mul(g, E(b, "digamma", n.in[0]))}; }
std::vector<int> vjp_digamma(Builder& b, const Node& n, int, int g) { return {b.mul(g, E(b, "trigamma", n.in[0]))}; }
std::vector<int> vjp_gamma(Builder& b, const Node& n, int y, int g) {
  return {b.mul(g, b.mul(y, E(b, "digamma", n.in[0])))};
}
std::vector<int> vjp_convert(Builder& b, const Node& n, int, int g) {
  DType from = b.type(n.in[0]).dtype;
  if (!is_float(from) || !is_float(b.type(g).dtype)) return {-1};
  return {b.convert(g, from)};
}

std::vector<int> vjp_add(Builder& b, const Node& n, int, int g) {
  return {unbroadcast(b, g, n.in[0]), unbroadcast(b, g, n.in[1])};
}
std::vector<int> vjp_sub(Builder& b, const Node& n, int, int g) {
  return {unbroadcast(b, g, n.in[0]), unbroadcast(b, b.neg(g), n.in[1])};
}
std::vector<int> vjp_mul(Builder& b, const Node& n, int, int g) {
  return {unbroadcast(b, b.mul(g, n.in[1]), n.in[0]), unbroadcast(b, b.mul(g, n.in[0]), n.in[1])};
}
std::vector<int> vjp_div(Builder& b, const Node& n, int y, int g) {
  int ga = b.div(g, n.in[1]);
  return {unbroadcast(b, ga, n.in[0]), unbroadcast(b, b.neg(b.mul(ga, y)), n.in[1])};
}
std::vector<int> vjp_pow(Builder& b, const Node& n, int y, int g) {
  int a = n.in[0], e = n.in[1];
  int da = b.mul(g, b.mul(e, b.emit("pow", {a, b.sub(e, sc(b, 1, e))})));
  // d/de a^e = a^e log(a), taken as 0 where a == 0 (as JAX does).
  int zero = sc(b, 0, a);
  int safe_log = b.select(b.emit("eq", {a, zero}), zero, E(b, "log", a));
  int de = b.mul(g, b.mul(y, safe_log));
  return {unbroadcast(b, da, a), unbroadcast(b, de, e)};
}
// max/min: the cotangent goes to the selected operand; ties split it evenly.
std::vector<int> vjp_extreme(Builder& b, const Node& n, int y, int g) {
  int a = n.in[0], c = n.in[1];
  DType d = b.type(g).dtype;
  int wa = b.convert(b.emit("eq", {a, y}), d), wc = b.convert(b.emit("eq", {c, y}), d);
  int tot = b.add(wa, wc);
  return {unbroadcast(b, b.mul(g, b.div(wa, tot)), a), unbroadcast(b, b.mul(g, b.div(wc, tot)), c)};
}
std::vector<int> vjp_mod(Builder& b, const Node& n, int, int g) {
  int q = E(b, "floor", b.div(n.in[0], n.in[1]));
  return {unbroadcast(b, g, n.in[0]), unbroadcast(b, b.neg(b.mul(g, q)), n.in[1])};
}
std::vector<int> vjp_atan2(Builder& b, const Node& n, int, int g) {
  int a = n.in[0], c = n.in[1];
  int den = b.add(b.mul(a, a), b.mul(c, c));
  return {unbroadcast(b, b.div(b.mul(g, c), den), a), unbroadcast(b, b.neg(b.div(b.mul(g, a), den)), c)};
}
std::vector<int> vjp_select(Builder& b, const Node& n, int, int g) {
  int p = n.in[0];
  int z = sc(b, 0, g);
  return {-1, unbroadcast(b, b.select(p, g, z), n.in[1]), unbroadcast(b, b.select(p, z, g), n.in[2])};
}

std::string print_convert(const Attrs& a) { return std::string("dtype=") + dtype_name(a.dtype); }

PrimDef ew(const char* name, int arity, InferFn infer, EvalFn eval, VjpFn vjp) {
  PrimDef d = make_prim(name, arity, infer, eval, vjp);
  d.elementwise = true;
  return d;
}

PrimRegistration regs[] = {
    PrimRegistration(ew("neg", 1, infer_unary_same, k_neg, vjp_neg)),
    PrimRegistration(ew("exp", 1, infer_unary_float, k_exp, vjp_exp)),
    PrimRegistration(ew("log", 1, infer_unary_float, k_log, vjp_log)),
    PrimRegistration(ew("log1p", 1, infer_unary_float, k_log1p, vjp_log1p)),
    PrimRegistration(ew("expm1", 1, infer_unary_float, k_expm1, vjp_expm1)),
    PrimRegistration(ew("sqrt", 1, infer_unary_float, k_sqrt, vjp_sqrt)),
    PrimRegistration(ew("abs", 1, infer_unary_same, k_abs, vjp_abs)),
    PrimRegistration(ew("sign", 1, infer_unary_same, k_sign, vjp_zero)),
    PrimRegistration(ew("sin", 1, infer_unary_float, k_sin, vjp_sin)),
    PrimRegistration(ew("cos", 1, infer_unary_float, k_cos, vjp_cos)),
    PrimRegistration(ew("tan", 1, infer_unary_float, k_tan, vjp_tan)),
    PrimRegistration(ew("asin", 1, infer_unary_float, k_asin, vjp_asin)),
    PrimRegistration(ew("acos", 1, infer_unary_float, k_acos, vjp_acos)),
    PrimRegistration(ew("atan", 1, infer_unary_float, k_atan, vjp_atan)),
    PrimRegistration(ew("sinh", 1, infer_unary_float, k_sinh, vjp_sinh)),
    PrimRegistration(ew("cosh", 1, infer_unary_float, k_cosh, vjp_cosh)),
    PrimRegistration(ew("tanh", 1, infer_unary_float, k_tanh, vjp_tanh)),
    PrimRegistration(ew("asinh", 1, infer_unary_float, k_asinh, vjp_asinh)),
    PrimRegistration(ew("acosh", 1, infer_unary_float, k_acosh, vjp_acosh)),
    PrimRegistration(ew("atanh", 1, infer_unary_float, k_atanh, vjp_atanh)),
    PrimRegistration(ew("lgamma", 1, infer_unary_float, k_lgamma, vjp_lgamma)),
    PrimRegistration(ew("gamma", 1, infer_unary_float, k_gamma, vjp_gamma)),
    PrimRegistration(ew("digamma", 1, infer_unary_float, k_digamma, vjp_digamma)),
    PrimRegistration(ew("trigamma", 1, infer_unary_float, k_trigamma, nullptr)),
    PrimRegistration(ew("floor", 1, infer_unary_float, k_floor, vjp_zero)),
    PrimRegistration(ew("ceiling", 1, infer_unary_float, k_ceiling, vjp_zero)),
    PrimRegistration(ew("round", 1, infer_unary_float, k_round, vjp_zero)),
    PrimRegistration(ew("trunc", 1, infer_unary_float, k_trunc, vjp_zero)),
    PrimRegistration(ew("not", 1, infer_unary_bool, k_not, vjp_zero)),
    // stop_gradient must reach the VJP transform: building graphs keeps it
    // (only a constant input folds, harmless since constants have no
    // gradient); the simplifier removes it in optimize() only, after every
    // nested grad has seen it.
    PrimRegistration(ew("stop_gradient", 1, infer_unary_same, k_identity, vjp_zero)),
    PrimRegistration(ew("is_nan", 1, infer_unary_bool, k_is_nan, vjp_zero)),
    PrimRegistration(ew("is_finite", 1, infer_unary_bool, k_is_finite, vjp_zero)),
    PrimRegistration([] {
      PrimDef d = ew("convert", 1, infer_convert, k_convert, vjp_convert);
      d.print_attrs = print_convert;
      return d;
    }()),
    PrimRegistration(ew("add", 2, infer_binary_same, k_add, vjp_add)),
    PrimRegistration(ew("sub", 2, infer_binary_same, k_sub, vjp_sub)),
    PrimRegistration(ew("mul", 2, infer_binary_same, k_mul, vjp_mul)),
    PrimRegistration(ew("div", 2, infer_binary_same, k_div, vjp_div)),
    PrimRegistration(ew("pow", 2, infer_binary_float, k_pow, vjp_pow)),
    PrimRegistration(ew("max", 2, infer_binary_same, k_max, vjp_extreme)),
    PrimRegistration(ew("min", 2, infer_binary_same, k_min, vjp_extreme)),
    PrimRegistration(ew("mod", 2, infer_binary_same, k_mod, vjp_mod)),
    PrimRegistration(ew("idiv", 2, infer_binary_same, k_idiv, vjp_zero)),
    PrimRegistration(ew("atan2", 2, infer_binary_float, k_atan2, vjp_atan2)),
    PrimRegistration(ew("eq", 2, infer_compare, k_eq, vjp_zero)),
    PrimRegistration(ew("ne", 2, infer_compare, k_ne, vjp_zero)),
    PrimRegistration(ew("lt", 2, infer_compare, k_lt, vjp_zero)),
    PrimRegistration(ew("le", 2, infer_compare, k_le, vjp_zero)),
    PrimRegistration(ew("gt", 2, infer_compare, k_gt, vjp_zero)),
    PrimRegistration(ew("ge", 2, infer_compare, k_ge, vjp_zero)),
    PrimRegistration(ew("and", 2, infer_logic, k_and, vjp_zero)),
    PrimRegistration(ew("or", 2, infer_logic, k_or, vjp_zero)),
    PrimRegistration([] {
      PrimDef d = ew("select", 3, infer_select, k_select, vjp_select);
      d.n_control = 1;  // ifelse(x > 0, 1, -1) is as weakly typed as 1 and -1
      return d;
    }()),
};

}  // namespace
}  // namespace rj
