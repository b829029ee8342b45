// Element-wise primitives. Each is one definition: its type rule, its R
// operand promotion, ONE scalar description (the math and R's NA, overflow
// and warning rules, built from the basis ops of src/ir/scalar.h, which
// every backend lowers), and its partial derivatives in IR (from which
// derive.cpp builds its VJP and JVP) or the reason it has none. The
// batching rule is the generic one. Operands have the output's shape or
// are rank-0 scalars (implicit broadcast).
//
// R semantics in the descriptions (integers hold NA as INT_MIN, bools 0xFF):
//   i32 + - *   NA in -> NA; a result outside [-INT_MAX, INT_MAX] -> NA with
//               "NAs produced by integer overflow" (checked in f64: exact for
//               + and -, and |x y| > INT_MAX is decided right even when x y rounds)
//   %/% %% i32  NA or a zero divisor -> NA (no warning, as R)
//   comparisons NA or NaN operand -> NA
//   & | !       R's three-valued logic
//   ifelse      NA test -> NA of the result's dtype
//   math        NaN from a non-NaN input -> "NaNs produced" (R's math1 rule)
//   conversions NA -> NA; double -> integer out of range (or NaN) -> NA, with
//               "NAs introduced by coercion to integer range" when out of range
#include <cmath>
#include <limits>

#include "../ir/scalar.h"
#include "prim_util.h"

namespace rj {
namespace {

using S = ScalarBuilder;
using Args = std::vector<SVal>;
constexpr double kIntMax = 2147483647.0;

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

DType common_dtype(const std::vector<Type>& in, size_t from, const char* what) {
  for (size_t k = from + 1; k < in.size(); ++k)
    if (in[k].dtype != in[from].dtype)
      fail("dtype", std::string(what) + ": operands have dtypes " + dtype_name(in[from].dtype) + " and " +
                        dtype_name(in[k].dtype));
  return in[from].dtype;
}

Type infer_number(const std::vector<Type>& in, const Attrs&) {  // same dtype, not bool
  DType d = common_dtype(in, 0, "arithmetic");
  if (d == DType::b8) fail("dtype", "arithmetic needs numbers, got bool operands");
  return Type{d, ew_shape(in, "arithmetic")};
}

Type infer_float(const std::vector<Type>& in, const Attrs&) {
  DType d = common_dtype(in, 0, "math function");
  if (!is_float(d)) fail("dtype", std::string("math function needs float operands, got ") + dtype_name(d));
  return Type{d, ew_shape(in, "math function")};
}

Type infer_to_bool(const std::vector<Type>& in, const Attrs&) { return Type{DType::b8, in[0].shape}; }

Type infer_compare(const std::vector<Type>& in, const Attrs&) {
  common_dtype(in, 0, "comparison");
  return Type{DType::b8, ew_shape(in, "comparison")};
}

Type infer_logic(const std::vector<Type>& in, const Attrs&) {
  for (auto& t : in)
    if (t.dtype != DType::b8) fail("dtype", "logical operator needs bool operands");
  return Type{DType::b8, ew_shape(in, "logical operator")};
}

Type infer_select(const std::vector<Type>& in, const Attrs&) {
  if (in[0].dtype != DType::b8) fail("dtype", "select: the predicate must be bool");
  return Type{common_dtype(in, 1, "select"), ew_shape(in, "select")};
}

Type infer_convert(const std::vector<Type>& in, const Attrs& a) { return Type{a.dtype, in[0].shape}; }

Type infer_same(const std::vector<Type>& in, const Attrs&) { return Type{in[0].dtype, in[0].shape}; }

// ---- building blocks of the descriptions -----------------------------------------

SVal any_na(S& s, const Args& x) {
  SVal r = s.is_na(x[0]);
  for (size_t k = 1; k < x.size(); ++k) r = s.or_(r, s.is_na(x[k]));
  return r;
}

SVal any_nan(S& s, const Args& x) {
  SVal r = s.is_nan(x[0]);
  for (size_t k = 1; k < x.size(); ++k) r = s.or_(r, s.is_nan(x[k]));
  return r;
}

// R's math1 rule: "NaNs produced" when the result is NaN but no input was.
SVal warn_nan(S& s, SVal r, const Args& x) {
  s.warn_if(s.and_(s.is_nan(r), s.not_(any_nan(s, x))), kWarnNaNProduced);
  return r;
}

// Integer +, -, *: wrapping i32 result unless NA or out of range.
SVal int_arith(S& s, SOp o, SVal a, SVal b) {
  SVal na = s.or_(s.is_na(a), s.is_na(b));
  SVal wide = s.op(o, s.convert(a, DType::f64), s.convert(b, DType::f64));
  SVal ovf = s.and_(s.not_(na), s.gt(s.abs(wide), s.c(kIntMax, DType::f64)));
  s.warn_if(ovf, kWarnIntOverflow);
  return s.select(s.or_(na, ovf), s.na(DType::i32), s.op(o, a, b));
}

SVal arith(S& s, SOp o, const Args& x) {
  if (x[0].dtype == DType::i32) return int_arith(s, o, x[0], x[1]);
  return s.op(o, x[0], x[1]);
}

// R's conversion of x to dtype d.
SVal r_convert(S& s, SVal x, DType d) {
  DType f = x.dtype;
  if (f == d) return x;
  if (is_float(f) && is_float(d)) return s.convert(x, d);
  if (is_float(f) && d == DType::i32) {
    SVal na = s.is_nan(x);
    SVal out = s.or_(s.ge(x, s.c_like(kIntMax + 1, x)), s.le(x, s.c_like(-kIntMax - 1, x)));
    s.warn_if(s.and_(s.not_(na), out), kWarnIntRange);
    return s.select(s.or_(na, out), s.na(d), s.convert(x, d));
  }
  return s.select(s.is_na(x), s.na(d), s.convert(x, d));
}

// ---- descriptions ------------------------------------------------------------------

SVal d_neg(S& s, const Args& x, const Attrs&) { return s.neg(x[0]); }  // -NA_integer_ wraps to itself
SVal d_abs(S& s, const Args& x, const Attrs&) { return s.abs(x[0]); }  // abs(INT_MIN) too
SVal d_sign(S& s, const Args& x, const Attrs&) {
  SVal v = x[0], zero = s.c_like(0, v);
  SVal r = s.select(s.gt(v, zero), s.c_like(1, v), s.select(s.lt(v, zero), s.c_like(-1, v), zero));
  return s.select(s.is_nan(v), v, r);
}

template <SOp O, bool CanMakeNaN>
SVal d_math(S& s, const Args& x, const Attrs&) {
  SVal r = s.op(O, x[0]);
  return CanMakeNaN ? warn_nan(s, r, x) : r;
}

SVal d_lgamma(S& s, const Args& x, const Attrs&) { return s.call("lgamma", {x[0]}); }
SVal d_gamma(S& s, const Args& x, const Attrs&) {  // R: Gamma(0) is NaN, not C's Inf
  SVal v = x[0];
  SVal r = s.select(s.eq(v, s.c_like(0, v)), s.c_like(std::numeric_limits<double>::quiet_NaN(), v), s.op(SOp::tgamma, v));
  return warn_nan(s, r, x);
}
SVal psigamma_n(S& s, SVal v, int64_t n) {
  return warn_nan(s, s.call("psigamma", {v, s.c_like((double)n, v)}), {v});
}
SVal d_psigamma(S& s, const Args& x, const Attrs& a) { return psigamma_n(s, x[0], a.ints.at(0)); }
SVal d_digamma(S& s, const Args& x, const Attrs&) { return psigamma_n(s, x[0], 0); }
SVal d_trigamma(S& s, const Args& x, const Attrs&) { return psigamma_n(s, x[0], 1); }

template <SOp O>
SVal d_round(S& s, const Args& x, const Attrs&) { return s.op(O, x[0]); }

SVal d_not(S& s, const Args& x, const Attrs&) { return s.select(s.is_na_value(x[0]), s.na(DType::b8), s.not_(x[0])); }
SVal d_identity(S&, const Args& x, const Attrs&) { return x[0]; }
SVal d_is_na(S& s, const Args& x, const Attrs&) { return s.is_na(x[0]); }
SVal d_is_nan(S& s, const Args& x, const Attrs&) {  // R's is.nan: NaN but not NA
  SVal v = x[0];
  if (!is_float(v.dtype)) return s.c(0, DType::b8);
  return s.and_(s.is_nan(v), s.not_(s.is_na_value(v)));
}
SVal d_is_finite(S& s, const Args& x, const Attrs&) {
  SVal v = x[0];
  if (!is_float(v.dtype)) return s.not_(s.is_na_value(v));
  return s.not_(s.or_(s.is_nan(v), s.eq(s.abs(v), s.c_like(std::numeric_limits<double>::infinity(), v))));
}
SVal d_convert(S& s, const Args& x, const Attrs& a) { return r_convert(s, x[0], a.dtype); }

template <SOp O>
SVal d_arith(S& s, const Args& x, const Attrs&) { return arith(s, O, x); }
SVal d_div(S& s, const Args& x, const Attrs&) { return s.div(x[0], x[1]); }
// R_pow: 1^y and x^0 are 1 (even for NA and NaN), x^2 is x * x exactly.
SVal d_pow(S& s, const Args& x, const Attrs&) {
  SVal a = x[0], e = x[1], one = s.c_like(1, a);
  SVal r = s.select(s.eq(e, s.c_like(2, e)), s.mul(a, a), s.op(SOp::pow, a, e));
  return s.select(s.or_(s.eq(a, one), s.eq(e, s.c_like(0, e))), one, r);
}
template <SOp O>
SVal d_extreme(S& s, const Args& x, const Attrs&) {  // R's pmax/pmin
  if (is_float(x[0].dtype)) return s.op(O, x[0], x[1]);
  return s.select(any_na(s, x), s.na(x[0].dtype), s.op(O, x[0], x[1]));
}
template <SOp IntOp>
SVal d_intdiv(S& s, const Args& x, const Attrs&) {  // %% and %/%
  SVal a = x[0], b = x[1];
  if (is_float(a.dtype)) return s.call(IntOp == SOp::floormod ? "r_fmod" : "r_fdiv", {a, b});
  SVal na = s.or_(any_na(s, x), s.eq(b, s.c_like(0, b)));
  return s.select(na, s.na(DType::i32), s.op(IntOp, a, b));
}
SVal d_atan2(S& s, const Args& x, const Attrs&) { return s.op(SOp::atan2, x[0], x[1]); }

template <SOp O>
SVal d_compare(S& s, const Args& x, const Attrs&) {
  return s.select(any_na(s, x), s.na(DType::b8), s.op(O, x[0], x[1]));
}

// R's three-valued & and |: a decisive operand (FALSE for &, TRUE for |)
// wins over NA.
template <bool And>
SVal d_logic(S& s, const Args& x, const Attrs&) {
  SVal decisive = s.c(And ? 0 : 1, DType::b8);
  SVal dec = s.or_(s.eq(x[0], decisive), s.eq(x[1], decisive));
  SVal rest = s.select(any_na(s, x), s.na(DType::b8), s.c(And ? 1 : 0, DType::b8));
  return s.select(dec, decisive, rest);
}

SVal d_select(S& s, const Args& x, const Attrs&) {
  return s.select(s.is_na_value(x[0]), s.na(x[1].dtype), s.select(x[0], x[1], x[2]));
}

// pnorm(x, mean, sd) and qnorm(p, mean, sd); ints = {lower.tail, log.p}.
SVal d_pnorm(S& s, const Args& x, const Attrs& a) {
  SVal q = x[0], m = x[1], sd = x[2];
  const double inf = std::numeric_limits<double>::infinity();
  SVal zero = s.c_like(0, sd);
  SVal z = s.div(s.sub(q, m), sd);
  // sd == 0: a step at the mean (R's x < mu ? 0 : 1 in the chosen scale).
  z = s.select(s.eq(sd, zero), s.select(s.lt(q, m), s.c_like(-inf, q), s.c_like(inf, q)), z);
  SVal r = s.call("pnorm", {z, s.c_like((double)a.ints.at(0), q), s.c_like((double)a.ints.at(1), q)});
  r = s.select(s.lt(sd, zero), s.c_like(std::numeric_limits<double>::quiet_NaN(), q), r);
  r = s.select(any_nan(s, x), s.add(s.add(q, m), sd), r);  // NA/NaN in: R returns x + mu + sigma
  return warn_nan(s, r, x);
}
SVal d_qnorm(S& s, const Args& x, const Attrs& a) {
  SVal p = x[0], m = x[1], sd = x[2];
  SVal zero = s.c_like(0, sd);
  SVal q = s.call("qnorm", {p, s.c_like((double)a.ints.at(0), p), s.c_like((double)a.ints.at(1), p)});
  SVal inf = s.eq(s.abs(q), s.c_like(std::numeric_limits<double>::infinity(), q));
  SVal r = s.select(inf, q, s.select(s.eq(sd, zero), m, s.add(m, s.mul(sd, q))));
  r = s.select(s.lt(sd, zero), s.c_like(std::numeric_limits<double>::quiet_NaN(), p), r);
  r = s.select(any_nan(s, x), s.add(s.add(p, m), sd), r);
  return warn_nan(s, r, x);
}

// ---- partial derivatives (IR) --------------------------------------------------------
// x, y: inputs; out: the node's own value. Results have the output's dtype.

using Parts = std::vector<int>;
int sc(Builder& b, double v, int like) { return b.scalar(v, b.type(like).dtype); }
int E(Builder& b, const char* p, int x) { return b.emit(p, {x}); }
int psigamma_of(Builder& b, int x, int64_t n) {
  Attrs a;
  a.ints = {n};
  return b.emit("psigamma", {x}, a);
}
int inv_sqrt_of(Builder& b, int v) { return b.div(sc(b, 1, v), E(b, "sqrt", v)); }
int sq(Builder& b, int v) { return b.mul(v, v); }

Parts p_neg(Builder& b, const Node& n, int) { return {sc(b, -1, n.in[0])}; }
Parts p_abs(Builder& b, const Node& n, int) { return {E(b, "sign", n.in[0])}; }
Parts p_exp(Builder&, const Node&, int y) { return {y}; }
Parts p_log(Builder& b, const Node& n, int) { return {b.div(sc(b, 1, n.in[0]), n.in[0])}; }
Parts p_log1p(Builder& b, const Node& n, int) { int x = n.in[0]; return {b.div(sc(b, 1, x), b.add(x, sc(b, 1, x)))}; }
Parts p_expm1(Builder& b, const Node&, int y) { return {b.add(y, sc(b, 1, y))}; }
Parts p_sqrt(Builder& b, const Node&, int y) { return {b.div(sc(b, 0.5, y), y)}; }
Parts p_sin(Builder& b, const Node& n, int) { return {E(b, "cos", n.in[0])}; }
Parts p_cos(Builder& b, const Node& n, int) { return {b.neg(E(b, "sin", n.in[0]))}; }
Parts p_tan(Builder& b, const Node&, int y) { return {b.add(sc(b, 1, y), sq(b, y))}; }
Parts p_asin(Builder& b, const Node& n, int) { int x = n.in[0]; return {inv_sqrt_of(b, b.sub(sc(b, 1, x), sq(b, x)))}; }
Parts p_acos(Builder& b, const Node& n, int) { int x = n.in[0]; return {b.neg(inv_sqrt_of(b, b.sub(sc(b, 1, x), sq(b, x))))}; }
Parts p_atan(Builder& b, const Node& n, int) { int x = n.in[0]; return {b.div(sc(b, 1, x), b.add(sc(b, 1, x), sq(b, x)))}; }
Parts p_sinh(Builder& b, const Node& n, int) { return {E(b, "cosh", n.in[0])}; }
Parts p_cosh(Builder& b, const Node& n, int) { return {E(b, "sinh", n.in[0])}; }
Parts p_tanh(Builder& b, const Node&, int y) { return {b.sub(sc(b, 1, y), sq(b, y))}; }
Parts p_asinh(Builder& b, const Node& n, int) { int x = n.in[0]; return {inv_sqrt_of(b, b.add(sq(b, x), sc(b, 1, x)))}; }
Parts p_acosh(Builder& b, const Node& n, int) { int x = n.in[0]; return {inv_sqrt_of(b, b.sub(sq(b, x), sc(b, 1, x)))}; }
Parts p_atanh(Builder& b, const Node& n, int) { int x = n.in[0]; return {b.div(sc(b, 1, x), b.sub(sc(b, 1, x), sq(b, x)))}; }
Parts p_lgamma(Builder& b, const Node& n, int) { return {psigamma_of(b, n.in[0], 0)}; }
Parts p_gamma(Builder& b, const Node& n, int y) { return {b.mul(y, psigamma_of(b, n.in[0], 0))}; }
Parts p_psigamma(Builder& b, const Node& n, int) { return {psigamma_of(b, n.in[0], n.attrs.ints.at(0) + 1)}; }
Parts p_digamma(Builder& b, const Node& n, int) { return {psigamma_of(b, n.in[0], 1)}; }
Parts p_trigamma(Builder& b, const Node& n, int) { return {psigamma_of(b, n.in[0], 2)}; }
Parts p_convert(Builder& b, const Node& n, int out) {
  if (!is_float(b.type(n.in[0]).dtype) || !is_float(b.type(out).dtype)) return {-1};
  return {sc(b, 1, out)};
}
Parts p_add(Builder& b, const Node& n, int) { return {sc(b, 1, n.in[0]), sc(b, 1, n.in[0])}; }
Parts p_sub(Builder& b, const Node& n, int) { return {sc(b, 1, n.in[0]), sc(b, -1, n.in[0])}; }
Parts p_mul(Builder&, const Node& n, int) { return {n.in[1], n.in[0]}; }
Parts p_div(Builder& b, const Node& n, int y) {
  int c = n.in[1];
  return {b.div(sc(b, 1, c), c), b.neg(b.div(y, c))};
}
Parts p_pow(Builder& b, const Node& n, int y) {
  int a = n.in[0], e = n.in[1];
  int da = b.mul(e, b.emit("pow", {a, b.sub(e, sc(b, 1, e))}));
  // d/de a^e = a^e log(a), taken as 0 where a == 0 (as JAX does).
  int zero = sc(b, 0, a);
  int safe_log = b.select(b.emit("eq", {a, zero}), zero, E(b, "log", a));
  return {da, b.mul(y, safe_log)};
}
// pmax/pmin: the derivative goes to the selected operand; ties split it evenly.
Parts p_extreme(Builder& b, const Node& n, int y) {
  int a = n.in[0], c = n.in[1];
  DType d = b.type(y).dtype;
  int wa = b.convert(b.emit("eq", {a, y}), d), wc = b.convert(b.emit("eq", {c, y}), d);
  int tot = b.add(wa, wc);
  return {b.div(wa, tot), b.div(wc, tot)};
}
Parts p_mod(Builder& b, const Node& n, int) {
  int q = E(b, "floor", b.div(n.in[0], n.in[1]));
  return {sc(b, 1, n.in[0]), b.neg(q)};
}
Parts p_atan2(Builder& b, const Node& n, int) {
  int a = n.in[0], c = n.in[1];
  int den = b.add(sq(b, a), sq(b, c));
  return {b.div(c, den), b.neg(b.div(a, den))};
}
Parts p_select(Builder& b, const Node& n, int out) {
  int p = n.in[0], one = sc(b, 1, out), zero = sc(b, 0, out);
  return {-1, b.select(p, one, zero), b.select(p, zero, one)};
}
// pnorm: with z = (x - m) / s and phi the normal density,
//   lower tail: dP/dx = phi(z) / s, dP/dm = -dP/dx, dP/ds = -z dP/dx;
//   upper tail: the negatives; log.p: divided by the tail probability,
//   i.e. phi(z) / exp(y) = exp(log phi(z) - y), accurate far in the tails.
Parts p_pnorm(Builder& b, const Node& n, int y) {
  int x = n.in[0], m = n.in[1], s = n.in[2];
  bool lower = n.attrs.ints.at(0) != 0, logp = n.attrs.ints.at(1) != 0;
  int z = b.div(b.sub(x, m), s);
  int log_phi = b.sub(b.mul(sc(b, -0.5, z), sq(b, z)), sc(b, 0.918938533204672741780329736406, z));
  int dens = E(b, "exp", logp ? b.sub(log_phi, y) : log_phi);
  int dx = b.div(dens, s);
  if (!lower) dx = b.neg(dx);
  return {dx, b.neg(dx), b.neg(b.mul(z, dx))};
}
// qnorm: y = m + s Q(p'), so dy/dp = s / phi(Q) dp'/dp with Q = (y - m) / s
// (from the output), p' the lower-tail probability (upper tail: -1,
// log.p: exp(p)); dy/dm = 1, dy/ds = Q.
Parts p_qnorm(Builder& b, const Node& n, int y) {
  int p = n.in[0], m = n.in[1], s = n.in[2];
  bool lower = n.attrs.ints.at(0) != 0, logp = n.attrs.ints.at(1) != 0;
  int Q = b.div(b.sub(y, m), s);
  int log_phi = b.sub(b.mul(sc(b, -0.5, Q), sq(b, Q)), sc(b, 0.918938533204672741780329736406, Q));
  int dp = b.mul(s, E(b, "exp", logp ? b.sub(p, log_phi) : b.neg(log_phi)));
  if (!lower) dp = b.neg(dp);
  return {dp, sc(b, 1, y), Q};
}

// ---- registration ---------------------------------------------------------------------

std::string print_convert(const Attrs& a) { return std::string("dtype=") + dtype_name(a.dtype); }
std::string print_deriv(const Attrs& a) { return "n=" + std::to_string(a.ints.at(0)); }
std::string print_tails(const Attrs& a) {
  return "lower=" + std::to_string(a.ints.at(0)) + " log=" + std::to_string(a.ints.at(1));
}

PrimDef ew(const char* name, const char* r_name, int arity, RPromote promote, InferFn infer, ScalarFn scalar,
           PartialsFn partials, const char* nondiff = nullptr, std::string (*pa)(const Attrs&) = nullptr) {
  PrimDef d = make_prim(name, arity, infer, nullptr, partials ? vjp_from_partials : nullptr, pa);
  d.r_name = r_name;
  d.r_promote = promote;
  d.scalar = scalar;
  d.partials = partials;
  d.nondiff = nondiff;
  d.elementwise = true;
  d.jvp = partials ? jvp_from_partials : jvp_zero;
  d.batch = batch_elementwise;
  return d;
}

const char* kPiecewise = "piecewise constant: the derivative is zero wherever it exists";
const char* kBoolOut = "the result is logical (bool): it carries no derivative";
constexpr RPromote kNum = RPromote::numeric, kFlt = RPromote::floating, kLgl = RPromote::logical,
                   kKeep = RPromote::keep;

PrimRegistration regs[] = {
    PrimRegistration(ew("neg", "-", 1, kNum, infer_number, d_neg, p_neg)),
    PrimRegistration(ew("abs", "abs", 1, kNum, infer_number, d_abs, p_abs)),
    PrimRegistration(ew("sign", "sign", 1, kFlt, infer_float, d_sign, nullptr, kPiecewise)),
    PrimRegistration(ew("exp", "exp", 1, kFlt, infer_float, d_math<SOp::exp, false>, p_exp)),
    PrimRegistration(ew("log", "log", 1, kFlt, infer_float, d_math<SOp::log, true>, p_log)),
    PrimRegistration(ew("log1p", "log1p", 1, kFlt, infer_float, d_math<SOp::log1p, true>, p_log1p)),
    PrimRegistration(ew("expm1", "expm1", 1, kFlt, infer_float, d_math<SOp::expm1, false>, p_expm1)),
    PrimRegistration(ew("sqrt", "sqrt", 1, kFlt, infer_float, d_math<SOp::sqrt, true>, p_sqrt)),
    PrimRegistration(ew("sin", "sin", 1, kFlt, infer_float, d_math<SOp::sin, true>, p_sin)),
    PrimRegistration(ew("cos", "cos", 1, kFlt, infer_float, d_math<SOp::cos, true>, p_cos)),
    PrimRegistration(ew("tan", "tan", 1, kFlt, infer_float, d_math<SOp::tan, true>, p_tan)),
    PrimRegistration(ew("asin", "asin", 1, kFlt, infer_float, d_math<SOp::asin, true>, p_asin)),
    PrimRegistration(ew("acos", "acos", 1, kFlt, infer_float, d_math<SOp::acos, true>, p_acos)),
    PrimRegistration(ew("atan", "atan", 1, kFlt, infer_float, d_math<SOp::atan, false>, p_atan)),
    PrimRegistration(ew("sinh", "sinh", 1, kFlt, infer_float, d_math<SOp::sinh, false>, p_sinh)),
    PrimRegistration(ew("cosh", "cosh", 1, kFlt, infer_float, d_math<SOp::cosh, false>, p_cosh)),
    PrimRegistration(ew("tanh", "tanh", 1, kFlt, infer_float, d_math<SOp::tanh, false>, p_tanh)),
    PrimRegistration(ew("asinh", "asinh", 1, kFlt, infer_float, d_math<SOp::asinh, false>, p_asinh)),
    PrimRegistration(ew("acosh", "acosh", 1, kFlt, infer_float, d_math<SOp::acosh, true>, p_acosh)),
    PrimRegistration(ew("atanh", "atanh", 1, kFlt, infer_float, d_math<SOp::atanh, true>, p_atanh)),
    PrimRegistration(ew("lgamma", "lgamma", 1, kFlt, infer_float, d_lgamma, p_lgamma)),
    PrimRegistration(ew("gamma", "gamma", 1, kFlt, infer_float, d_gamma, p_gamma)),
    PrimRegistration(ew("digamma", "digamma", 1, kFlt, infer_float, d_digamma, p_digamma)),
    PrimRegistration(ew("trigamma", "trigamma", 1, kFlt, infer_float, d_trigamma, p_trigamma)),
    PrimRegistration(ew("psigamma", "psigamma", 1, kFlt, infer_float, d_psigamma, p_psigamma, nullptr, print_deriv)),
    PrimRegistration(ew("floor", "floor", 1, kFlt, infer_float, d_round<SOp::floor>, nullptr, kPiecewise)),
    PrimRegistration(ew("ceiling", "ceiling", 1, kFlt, infer_float, d_round<SOp::ceil>, nullptr, kPiecewise)),
    PrimRegistration(ew("round", "round", 1, kFlt, infer_float, d_round<SOp::rint>, nullptr, kPiecewise)),
    PrimRegistration(ew("trunc", "trunc", 1, kFlt, infer_float, d_round<SOp::trunc>, nullptr, kPiecewise)),
    PrimRegistration(ew("not", "!", 1, kLgl, infer_logic, d_not, nullptr, kBoolOut)),
    // stop_gradient must reach the VJP transform: building graphs keeps it
    // (only a constant input folds, harmless since constants have no
    // gradient); the simplifier removes it in optimize() only, after every
    // nested grad has seen it.
    PrimRegistration(ew("stop_gradient", "stop_gradient", 1, RPromote::none, infer_same, d_identity, nullptr,
                        "stop_gradient() blocks derivatives by definition")),
    PrimRegistration(ew("is_na", "is.na", 1, kKeep, infer_to_bool, d_is_na, nullptr, kBoolOut)),
    PrimRegistration(ew("is_nan", "is.nan", 1, kKeep, infer_to_bool, d_is_nan, nullptr, kBoolOut)),
    PrimRegistration(ew("is_finite", "is.finite", 1, kKeep, infer_to_bool, d_is_finite, nullptr, kBoolOut)),
    PrimRegistration(ew("convert", "as_dtype", 1, RPromote::none, infer_convert, d_convert, p_convert, nullptr, print_convert)),
    PrimRegistration(ew("add", "+", 2, kNum, infer_number, d_arith<SOp::add>, p_add)),
    PrimRegistration(ew("sub", "-", 2, kNum, infer_number, d_arith<SOp::sub>, p_sub)),
    PrimRegistration(ew("mul", "*", 2, kNum, infer_number, d_arith<SOp::mul>, p_mul)),
    PrimRegistration(ew("div", "/", 2, kFlt, infer_float, d_div, p_div)),
    PrimRegistration(ew("pow", "^", 2, kFlt, infer_float, d_pow, p_pow)),
    PrimRegistration(ew("max", "pmax", 2, kNum, infer_number, d_extreme<SOp::max>, p_extreme)),
    PrimRegistration(ew("min", "pmin", 2, kNum, infer_number, d_extreme<SOp::min>, p_extreme)),
    PrimRegistration(ew("mod", "%%", 2, kNum, infer_number, d_intdiv<SOp::floormod>, p_mod)),
    PrimRegistration(ew("idiv", "%/%", 2, kNum, infer_number, d_intdiv<SOp::floordiv>, nullptr, kPiecewise)),
    PrimRegistration(ew("atan2", "atan2", 2, kFlt, infer_float, d_atan2, p_atan2)),
    PrimRegistration(ew("eq", "==", 2, kKeep, infer_compare, d_compare<SOp::eq>, nullptr, kBoolOut)),
    PrimRegistration(ew("ne", "!=", 2, kKeep, infer_compare, d_compare<SOp::ne>, nullptr, kBoolOut)),
    PrimRegistration(ew("lt", "<", 2, kKeep, infer_compare, d_compare<SOp::lt>, nullptr, kBoolOut)),
    PrimRegistration(ew("le", "<=", 2, kKeep, infer_compare, d_compare<SOp::le>, nullptr, kBoolOut)),
    PrimRegistration(ew("gt", ">", 2, kKeep, infer_compare, d_compare<SOp::gt>, nullptr, kBoolOut)),
    PrimRegistration(ew("ge", ">=", 2, kKeep, infer_compare, d_compare<SOp::ge>, nullptr, kBoolOut)),
    PrimRegistration(ew("and", "&", 2, kLgl, infer_logic, d_logic<true>, nullptr, kBoolOut)),
    PrimRegistration(ew("or", "|", 2, kLgl, infer_logic, d_logic<false>, nullptr, kBoolOut)),
    PrimRegistration([] {
      PrimDef d = ew("select", "ifelse", 3, RPromote::none, infer_select, d_select, p_select);
      d.n_control = 1;  // ifelse(x > 0, 1, -1) is as weakly typed as 1 and -1
      return d;
    }()),
    PrimRegistration(ew("pnorm", "pnorm", 3, kFlt, infer_float, d_pnorm, p_pnorm, nullptr, print_tails)),
    PrimRegistration(ew("qnorm", "qnorm", 3, kFlt, infer_float, d_qnorm, p_qnorm, nullptr, print_tails)),
};

}  // namespace
}  // namespace rj
