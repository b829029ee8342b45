// Polynomial exp, log and tanh in LLVM IR (see math.h).
//
// Accuracy, measured against R (tests/testthat/test-backend-llvm.R): about
// 1 ulp. Special values follow IEEE/C: exp overflows to Inf and underflows
// through the subnormals to 0; log(0) = -Inf, log(x < 0) = NaN, log(Inf) =
// Inf; NaN propagates everywhere.
#include "math.h"

#include <llvm/IR/Intrinsics.h>

#include <cmath>
#include <limits>

namespace rj {
namespace {

using llvm::Value;

bool is_f32(Value* x) { return x->getType()->getScalarType()->isFloatTy(); }

Value* cf(llvm::IRBuilder<>& b, Value* like, double v) { return llvm::ConstantFP::get(like->getType(), v); }

Value* call1(llvm::IRBuilder<>& b, llvm::Intrinsic::ID id, Value* x) {
  return b.CreateUnaryIntrinsic(id, x);
}

Value* fma(llvm::IRBuilder<>& b, Value* a, Value* c, Value* d) {
  return b.CreateIntrinsic(llvm::Intrinsic::fma, {a->getType()}, {a, c, d});
}

// Horner evaluation c[0] + x (c[1] + x (c[2] + ...)).
Value* horner(llvm::IRBuilder<>& b, Value* x, const double* c, int n) {
  Value* p = cf(b, x, c[n - 1]);
  for (int k = n - 2; k >= 0; --k) p = fma(b, p, x, cf(b, x, c[k]));
  return p;
}

}  // namespace

// exp(x) = 2^n * exp(r), n = rint(x / ln 2), |r| <= ln(2) / 2, exp(r) by its
// Taylor polynomial (degree 13 for double, 7 for float: truncation error
// below 0.1 ulp). 2^n is applied as two factors so that results in the
// subnormal range and next to overflow come out right.
Value* emit_exp(llvm::IRBuilder<>& b, Value* x) {
  bool f32 = is_f32(x);
  llvm::Type* it = f32 ? b.getInt32Ty() : b.getInt64Ty();
  const double lo_clamp = f32 ? -104.0 : -746.0, hi_clamp = f32 ? 89.0 : 710.0;
  const double underflow = f32 ? -103.97208404541015625 : -745.1332191019412;
  const double ln2_hi = f32 ? 0.693359375 : 6.93147180369123816490e-01;
  const double ln2_lo = f32 ? -2.12194440e-4 : 1.90821492927058770002e-10;
  const int mant = f32 ? 23 : 52, bias = f32 ? 127 : 1023;

  Value* xc = b.CreateSelect(b.CreateFCmpOLT(x, cf(b, x, lo_clamp)), cf(b, x, lo_clamp), x);
  xc = b.CreateSelect(b.CreateFCmpOGT(xc, cf(b, x, hi_clamp)), cf(b, x, hi_clamp), xc);
  Value* n = call1(b, llvm::Intrinsic::rint, b.CreateFMul(xc, cf(b, x, 1.4426950408889634)));
  Value* r = fma(b, b.CreateFNeg(n), cf(b, x, ln2_hi), xc);
  r = fma(b, b.CreateFNeg(n), cf(b, x, ln2_lo), r);
  double c[14];
  int deg = f32 ? 7 : 13;
  double fact = 1;
  for (int k = 0; k <= deg; ++k) {
    if (k) fact *= k;
    c[k] = 1.0 / fact;
  }
  Value* p = horner(b, r, c, deg + 1);
  Value* ni = b.CreateFPToSI(n, x->getType()->isVectorTy() ? llvm::VectorType::get(it, llvm::cast<llvm::VectorType>(x->getType())->getElementCount()) : it);
  Value* n1 = b.CreateAShr(ni, 1);
  Value* n2 = b.CreateSub(ni, n1);
  auto pow2 = [&](Value* e) {
    Value* bits = b.CreateShl(b.CreateAdd(e, llvm::ConstantInt::get(e->getType(), bias)), mant);
    return b.CreateBitCast(bits, x->getType());
  };
  Value* res = b.CreateFMul(b.CreateFMul(p, pow2(n1)), pow2(n2));
  res = b.CreateSelect(b.CreateFCmpOLT(x, cf(b, x, underflow)), cf(b, x, 0.0), res);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, res);
}

// log(x) = e ln 2 + log(m), x = m 2^e with m in [sqrt(1/2), sqrt(2)); with
// f = m - 1 (exact) and s = f / (2 + f), log(m) = f - (f^2/2 - s (f^2/2 + R))
// where R = sum 2 s^(2k) / (2k + 1) (fdlibm's arrangement: the leading term f
// carries no rounding error).
Value* emit_log(llvm::IRBuilder<>& b, Value* x) {
  bool f32 = is_f32(x);
  llvm::Type* ft = x->getType();
  llvm::Type* it = f32 ? b.getInt32Ty() : b.getInt64Ty();
  if (ft->isVectorTy()) it = llvm::VectorType::get(it, llvm::cast<llvm::VectorType>(ft)->getElementCount());
  const int mant = f32 ? 23 : 52, bias = f32 ? 127 : 1023;
  const double tiny = f32 ? 1.17549435e-38 : 2.2250738585072014e-308;
  const double scale_e = f32 ? 25 : 54;
  const uint64_t mant_mask = f32 ? 0x7fffffULL : 0x000fffffffffffffULL;
  const uint64_t one_bits = f32 ? 0x3f800000ULL : 0x3ff0000000000000ULL;
  const uint64_t exp_mask = f32 ? 0xff : 0x7ff;
  const double ln2_hi = f32 ? 0.693359375 : 6.93147180369123816490e-01;
  const double ln2_lo = f32 ? -2.12194440e-4 : 1.90821492927058770002e-10;
  auto ic = [&](uint64_t v) { return llvm::ConstantInt::get(it, v); };

  // Subnormal inputs: scale into the normal range first.
  Value* sub = b.CreateFCmpOLT(x, cf(b, x, tiny));
  Value* xs = b.CreateSelect(sub, b.CreateFMul(x, cf(b, x, std::ldexp(1.0, (int)scale_e))), x);
  Value* bits = b.CreateBitCast(xs, it);
  Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, mant), ic(exp_mask)), ic(bias));
  Value* m = b.CreateBitCast(b.CreateOr(b.CreateAnd(bits, ic(mant_mask)), ic(one_bits)), ft);
  Value* big = b.CreateFCmpOGT(m, cf(b, x, 1.4142135623730951));
  m = b.CreateSelect(big, b.CreateFMul(m, cf(b, x, 0.5)), m);
  e = b.CreateAdd(e, b.CreateZExt(big, it));
  Value* ef = b.CreateSIToFP(e, ft);
  ef = b.CreateSelect(sub, b.CreateFSub(ef, cf(b, x, scale_e)), ef);

  Value* f = b.CreateFSub(m, cf(b, x, 1.0));
  Value* s = b.CreateFDiv(f, b.CreateFAdd(f, cf(b, x, 2.0)));
  Value* z = b.CreateFMul(s, s);
  double c[12];
  int nterms = f32 ? 5 : 11;
  for (int k = 1; k <= nterms; ++k) c[k - 1] = 2.0 / (2 * k + 1);
  Value* R = b.CreateFMul(z, horner(b, z, c, nterms));
  Value* hfsq = b.CreateFMul(cf(b, x, 0.5), b.CreateFMul(f, f));
  Value* lo = fma(b, ef, cf(b, x, ln2_lo), b.CreateFMul(s, b.CreateFAdd(hfsq, R)));
  Value* res = fma(b, ef, cf(b, x, ln2_hi), b.CreateFSub(f, b.CreateFSub(hfsq, lo)));

  const double inf = std::numeric_limits<double>::infinity();
  res = b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, x, inf)), x, res);
  res = b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, x, 0.0)), cf(b, x, -inf), res);
  res = b.CreateSelect(b.CreateFCmpOLT(x, cf(b, x, 0.0)), cf(b, x, std::numeric_limits<double>::quiet_NaN()), res);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, res);
}

// tanh: Cephes' rational (double) / polynomial (float) approximation for
// |x| < 0.625, where 1 - 2 / (exp(2|x|) + 1) would cancel; that formula with
// the sign of x elsewhere (exp overflowing to Inf gives exactly +-1).
Value* emit_tanh(llvm::IRBuilder<>& b, Value* x) {
  bool f32 = is_f32(x);
  Value* ax = call1(b, llvm::Intrinsic::fabs, x);
  Value* s = b.CreateFMul(x, x);
  Value* small;
  if (f32) {
    const double c[] = {-3.33332819422E-1, 1.33314422036E-1, -5.37397155531E-2, 2.06390887954E-2, -5.70498872745E-3};
    small = fma(b, b.CreateFMul(horner(b, s, c, 5), s), x, x);
  } else {
    const double P[] = {-1.61468768441708447952E3, -9.92877231001918586564E1, -9.64399179425052238628E-1};
    const double Q[] = {4.84406305325125486048E3, 2.23548839060100448583E3, 1.12811678491632931402E2, 1.0};
    Value* ratio = b.CreateFDiv(horner(b, s, P, 3), horner(b, s, Q, 4));
    small = fma(b, b.CreateFMul(ratio, s), x, x);
  }
  Value* e = emit_exp(b, b.CreateFAdd(ax, ax));
  Value* large = b.CreateFSub(cf(b, x, 1.0), b.CreateFDiv(cf(b, x, 2.0), b.CreateFAdd(e, cf(b, x, 1.0))));
  large = b.CreateIntrinsic(llvm::Intrinsic::copysign, {x->getType()}, {large, x});
  return b.CreateSelect(b.CreateFCmpOLT(ax, cf(b, x, 0.625)), small, large);
}

// log1p(x) = log(u) x / (u - 1) with u = 1 + x (Goldberg's correction: the
// rounding error of u cancels in the ratio), x itself where u rounds to 1
// (|x| below half an ulp of 1, subnormals included); Inf at Inf. A few ulps,
// like the vectorised log it is built on.
Value* emit_log1p(llvm::IRBuilder<>& b, Value* x) {
  Value* u = b.CreateFAdd(cf(b, x, 1.0), x);
  Value* d = b.CreateFSub(u, cf(b, x, 1.0));
  Value* r = b.CreateFMul(emit_log(b, u), b.CreateFDiv(x, d));
  r = b.CreateSelect(b.CreateFCmpOEQ(u, cf(b, x, 1.0)), x, r);
  return b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, x, INFINITY)), x, r);
}

// expm1(x) = (u - 1) x / log(u) with u = exp(x) (Kahan's correction), x where
// u rounds to 1, -1 where u - 1 does; Inf where exp overflows.
Value* emit_expm1(llvm::IRBuilder<>& b, Value* x) {
  Value* u = emit_exp(b, x);
  Value* um1 = b.CreateFSub(u, cf(b, x, 1.0));
  Value* r = b.CreateFMul(um1, b.CreateFDiv(x, emit_log(b, u)));  // x / log(u) ~ 1: no overflow
  r = b.CreateSelect(b.CreateFCmpOEQ(um1, cf(b, x, -1.0)), um1, r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, cf(b, x, 1.0)), x, r);
  return b.CreateSelect(b.CreateFCmpOEQ(u, cf(b, x, INFINITY)), u, r);
}

}  // namespace rj
