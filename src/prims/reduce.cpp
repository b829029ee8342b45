// Reductions, cumulative ops and argmax/argmin.
//
// Reductions run over a set of axes (attrs.ints, sorted, 0-based) that are
// dropped from the shape: sum(x) reduces every axis to a rank-0 scalar,
// colSums(x) axis 0 of a matrix, rowSums(x) axis 1. Cumulative ops (cumsum,
// cumprod, cummax, cummin) run along one axis (attrs.ints = {axis}) and keep
// the shape. Both are defined by a monoid (src/ir/scalar.h): identity, lift,
// combine and finish written once as scalar descriptions, which the
// interpreter runs here on its tapes, the LLVM backend lowers in its fused
// reductions, and the LLVM executable uses to finish partial results.
//
// R's semantics:
//   sum        integers accumulate exactly (f64) and stay i32; a total outside
//              the integer range is NA with "integer overflow - use
//              sum(as.numeric(.))". R itself returns a double then, but under
//              jit the dtype must be static: this is rjax's one documented
//              deviation, and eager mode agrees with jit.
//   prod       double for every input (R).
//   max, min   NA beats NaN (R's rule); over no element -Inf / Inf, double,
//              with R's warning (sizes are static, so the type rule can tell).
//   any, all   R's three-valued logic (any(c(NA, TRUE)) is TRUE).
//   cumsum     integers stay i32; once the running total leaves the integer
//              range it is NA from there on, with R's warning (R stops there).
//   cumprod    double. cummax, cummin: integers stay i32; a NaN or NA sticks
//              from where it appears (the first one met, as R).
//   argmax, argmin
//              position (0-based) of the first maximum/minimum over the whole
//              array, NaN and NA ignored; -1 when there is none (empty or all
//              NaN). R's which.max adds 1 and gives integer(0) for -1.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "../backend/interp/tape.h"
#include "../ir/scalar.h"
#include "prim_util.h"

namespace rj {
namespace {

using S = ScalarBuilder;
constexpr double kIntMax = 2147483647.0;
const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- monoids -----------------------------------------------------------------------

double id_zero(DType) { return 0; }
double id_one(DType) { return 1; }
double id_ninf(DType) { return -kInf; }
double id_pinf(DType) { return kInf; }

SVal lift_r(S& s, SVal x, DType) {
  if (x.dtype == DType::f64) return x;
  if (is_float(x.dtype)) return s.convert(x, DType::f64);
  return s.select(s.is_na_value(x), s.na(DType::f64), s.convert(x, DType::f64));
}

SVal comb_add(S& s, SVal a, SVal b, DType) { return s.add(a, b); }
SVal comb_mul(S& s, SVal a, SVal b, DType) { return s.mul(a, b); }

// max/min of reductions: NaN if any operand is NaN, NA if any is NA (R's
// "NA trumps NaN" in max()/min()). The basis max/min already give the
// second operand's NaN when it has one, else the first's; only an NA in
// the first operand beaten by a plain NaN in the second needs fixing.
template <bool Max>
SVal comb_extreme(S& s, SVal a, SVal b, DType) {
  SVal r = Max ? s.max(a, b) : s.min(a, b);
  return s.select(s.and_(s.is_nan(r), s.is_na_value(a)), a, r);
}

// Running max/min (cummax/cummin): the first NaN or NA met sticks, as R:
// with the basis op's rule (the second operand's NaN first), that is
// max(v, acc).
template <bool Max>
SVal comb_running(S& s, SVal acc, SVal v, DType) { return Max ? s.max(v, acc) : s.min(v, acc); }

// any/all on accumulators 0, 1 or NaN (NA).
template <bool Any>
SVal comb_logic(S& s, SVal a, SVal b, DType) {
  SVal decisive = s.c(Any ? 1 : 0, DType::f64);
  SVal dec = s.or_(s.eq(a, decisive), s.eq(b, decisive));
  SVal na = s.or_(s.is_nan(a), s.is_nan(b));
  return s.select(dec, decisive, s.select(na, s.c(kNaN, DType::f64), s.c(Any ? 0 : 1, DType::f64)));
}

SVal finish_with(S& s, SVal acc, DType out, uint32_t overflow_warning) {
  switch (out) {
    case DType::f64: return acc;
    case DType::f32: return s.convert(acc, out);
    case DType::b8: return s.select(s.is_nan(acc), s.na(out), s.convert(acc, out));
    case DType::i32: {
      SVal na = s.is_nan(acc);
      SVal ovf = s.and_(s.not_(na), s.gt(s.abs(acc), s.c(kIntMax, DType::f64)));
      if (overflow_warning) s.warn_if(ovf, overflow_warning);
      return s.select(s.or_(na, ovf), s.na(out), s.convert(acc, out));
    }
  }
  return acc;
}
SVal finish_sum(S& s, SVal acc, DType, DType out) { return finish_with(s, acc, out, kWarnSumOverflow); }
SVal finish_plain(S& s, SVal acc, DType, DType out) { return finish_with(s, acc, out, 0); }
SVal finish_cumsum(S& s, SVal acc, DType, DType out) { return finish_with(s, acc, out, kWarnCumsumOverflow); }

const Monoid kSum{"sum", id_zero, lift_r, comb_add, finish_sum, 0, true};
const Monoid kProd{"prod", id_one, lift_r, comb_mul, finish_plain, 0, true};
const Monoid kMax{"max", id_ninf, lift_r, comb_extreme<true>, finish_plain, kWarnMaxEmpty, false};
const Monoid kMin{"min", id_pinf, lift_r, comb_extreme<false>, finish_plain, kWarnMinEmpty, false};
const Monoid kAny{"any", id_zero, lift_r, comb_logic<true>, finish_plain, 0, false};
const Monoid kAll{"all", id_one, lift_r, comb_logic<false>, finish_plain, 0, false};
const Monoid kCumsum{"cumsum", id_zero, lift_r, comb_add, finish_cumsum, 0, false};
const Monoid kCummax{"cummax", id_ninf, lift_r, comb_running<true>, finish_plain, 0, false};
const Monoid kCummin{"cummin", id_pinf, lift_r, comb_running<false>, finish_plain, 0, false};

// ---- type rules ------------------------------------------------------------------------

int64_t reduced_extent(const Shape& s, const Attrs& a) {
  int64_t r = 1;
  for (auto ax : a.ints) r *= s[ax];
  return r;
}

Shape reduced_shape(const Type& t, const Attrs& a) {
  const Shape& s = t.shape;
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
  return out;
}

Type infer_sum(const std::vector<Type>& in, const Attrs& a) {
  return Type{in[0].dtype == DType::b8 ? DType::i32 : in[0].dtype, reduced_shape(in[0], a)};
}
Type infer_prod(const std::vector<Type>& in, const Attrs& a) {
  return Type{is_float(in[0].dtype) ? in[0].dtype : DType::f64, reduced_shape(in[0], a)};
}
Type infer_extreme(const std::vector<Type>& in, const Attrs& a) {
  Shape out = reduced_shape(in[0], a);
  DType d = in[0].dtype;
  if (!is_float(d)) d = reduced_extent(in[0].shape, a) == 0 ? DType::f64 : DType::i32;  // R: max(integer(0)) is -Inf
  return Type{d, out};
}
Type infer_logical(const std::vector<Type>& in, const Attrs& a) {
  if (in[0].dtype != DType::b8) fail("dtype", "any()/all() need a bool array; compare first (x != 0)");
  return Type{DType::b8, reduced_shape(in[0], a)};
}

void check_axis(const Type& t, const Attrs& a, const char* op) {
  if (a.ints.size() != 1 || a.ints[0] < 0 || a.ints[0] >= std::max(t.rank(), 1))
    fail("shape", std::string(op) + ": axis does not fit an array of shape [" + shape_str(t.shape) + "]");
}
Type infer_cumsum(const std::vector<Type>& in, const Attrs& a) {
  check_axis(in[0], a, "cumsum");
  return Type{in[0].dtype == DType::b8 ? DType::i32 : in[0].dtype, in[0].shape};
}
Type infer_cumprod(const std::vector<Type>& in, const Attrs& a) {
  check_axis(in[0], a, "cumprod");
  return Type{is_float(in[0].dtype) ? in[0].dtype : DType::f64, in[0].shape};
}
Type infer_cumext(const std::vector<Type>& in, const Attrs& a) {
  check_axis(in[0], a, "cummax");
  return Type{in[0].dtype == DType::b8 ? DType::i32 : in[0].dtype, in[0].shape};
}
// attrs.ints = {1}: one position per column of a matrix (vmap's rule), else over the whole array.
Type infer_arg(const std::vector<Type>& in, const Attrs& a) {
  if (!a.ints.empty() && a.ints[0] == 1) {
    if (in[0].rank() != 2) fail("internal", "column-wise argmax needs a matrix");
    return Type{DType::i32, {in[0].shape[1]}};
  }
  return Type{DType::i32, {}};
}

// ---- interpreter evaluation ------------------------------------------------------------

constexpr int64_t kRunChunk = 1 << 14;  // elements per partial result: fixed, so results never depend on threads
constexpr int64_t kParallelMin = 1 << 17;

int64_t pow2_at_least(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

// acc = the monoid over `len` contiguous elements at x (lanes, then a fixed tree).
double reduce_run(const Monoid& M, DType in, const Tape& step, const char* x, int64_t len, uint32_t* flags) {
  const size_t es = dtype_size(in);
  int64_t lanes = pow2_at_least(std::min<int64_t>(kTapeBlock, std::max<int64_t>(len, 1)));
  std::vector<double> acc((size_t)lanes, M.identity(in));
  const char sc[2] = {0, 0};
  for (int64_t b = 0; b < len; b += lanes) {
    int64_t m = std::min(lanes, len - b);
    const void* ins[2] = {acc.data(), x + b * es};
    tape_run(step, ins, sc, acc.data(), m, flags);
  }
  return monoid_merge_lanes(M, in, acc.data(), lanes);
}

// Reduces each of `outer` contiguous runs of length `red` (run o at x + o red).
void reduce_runs(const Monoid& M, DType in, const char* x, int64_t red, int64_t outer, double* acc) {
  TapePtr step = monoid_step_tape(M, in);
  const size_t es = dtype_size(in);
  const int64_t nchunk = std::max<int64_t>(1, (red + kRunChunk - 1) / kRunChunk);
  std::vector<double> part((size_t)(outer * nchunk));
  std::vector<uint32_t> flags(part.size(), 0);
  parallel_for(outer * nchunk, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      int64_t o = task / nchunk, c = task % nchunk;
      int64_t from = c * kRunChunk, len = std::min(red, from + kRunChunk) - from;
      part[task] = reduce_run(M, in, *step, x + (o * red + from) * es, std::max<int64_t>(len, 0), &flags[task]);
    }
  }, std::max<int64_t>(2, kParallelMin / std::max<int64_t>(1, std::min(red, kRunChunk))));
  uint32_t all = 0;
  for (auto f : flags) all |= f;
  raise_warning(all);
  for (int64_t o = 0; o < outer; ++o)
    acc[o] = nchunk == 1 ? part[o] : monoid_merge(M, in, part.data() + o * nchunk, nchunk);
}

// Reduces axis `red` of the (inner, red, outer) view, lanes over inner.
void reduce_lanes(const Monoid& M, DType in, const char* x, int64_t inner, int64_t red, int64_t outer, double* acc) {
  TapePtr step = monoid_step_tape(M, in);
  const size_t es = dtype_size(in);
  std::fill(acc, acc + inner * outer, M.identity(in));
  const int64_t blk = 4096, nb = (inner + blk - 1) / blk;
  std::vector<uint32_t> flags((size_t)(outer * nb), 0);
  parallel_for(outer * nb, 1, [&](int64_t lo, int64_t hi) {
    const char sc[2] = {0, 0};
    for (int64_t task = lo; task < hi; ++task) {
      int64_t o = task / nb, i0 = (task % nb) * blk, m = std::min(blk, inner - i0);
      double* a = acc + o * inner + i0;
      for (int64_t r = 0; r < red; ++r) {
        const void* ins[2] = {a, x + (i0 + inner * (r + red * o)) * es};
        tape_run(*step, ins, sc, a, m, &flags[task]);
      }
    }
  }, std::max<int64_t>(2, kParallelMin / std::max<int64_t>(1, std::min(inner, blk) * red)));
  uint32_t all = 0;
  for (auto f : flags) all |= f;
  raise_warning(all);
}

// Copies x with its axes permuted (out dim i = x dim perm[i]).
BufferPtr permuted(const Buffer& x, const std::vector<int64_t>& perm) {
  Shape s;
  for (auto p : perm) s.push_back(x.shape[p]);
  auto y = make_buffer(x.dtype, s);
  Attrs a;
  a.ints = perm;
  eval_prim(prim(prim_id("transpose")), {&x}, *y, a);
  return y;
}

void reduce_eval(const Monoid& M, const std::vector<const Buffer*>& ins, Buffer& out, const Attrs& a) {
  const Buffer& x = *ins[0];
  const DType in = x.dtype;
  const Shape& s = x.shape;
  const int64_t n_out = out.size();
  if (n_out == 0) return;
  const int64_t red = reduced_extent(s, a);
  std::vector<double> acc((size_t)n_out, M.identity(in));
  if (red == 0) {
    if (M.empty_warning) raise_warning(M.empty_warning);
  } else {
    bool contiguous = true;
    for (size_t k = 1; k < a.ints.size(); ++k) contiguous = contiguous && a.ints[k] == a.ints[k - 1] + 1;
    int64_t inner = 1, outer = 1;
    if (!a.ints.empty()) {
      for (int64_t d = 0; d < a.ints.front(); ++d) inner *= s[d];
      for (size_t d = a.ints.back() + 1; d < s.size(); ++d) outer *= s[d];
    }
    BufferPtr moved;
    const char* data = static_cast<const char*>(x.data);
    if (!contiguous || (inner > 1 && inner < 16)) {  // reduced axes first: runs of `red` elements
      std::vector<int64_t> perm(a.ints.begin(), a.ints.end());
      for (int64_t d = 0; d < (int64_t)s.size(); ++d)
        if (!std::binary_search(a.ints.begin(), a.ints.end(), d)) perm.push_back(d);
      moved = permuted(x, perm);
      data = static_cast<const char*>(moved->data);
      inner = 1;
      outer = n_out;
    }
    if (inner == 1) reduce_runs(M, in, data, red, outer, acc.data());
    else reduce_lanes(M, in, data, inner, red, outer, acc.data());
  }
  monoid_finish(M, in, out.dtype, acc.data(), n_out, out.data);
}

template <const Monoid* M>
void k_reduce(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  reduce_eval(*M, in, out, a);
}

// Cumulative ops. Three ways to give the tapes whole blocks of lanes:
//   inner > 1          lanes are the positions before the axis (contiguous);
//   many short scans   lanes are the scans themselves (gathered per step);
//   a few long scans   each scan is cut into up to 512 contiguous segments
//                      (the lanes): segment totals, their exclusive prefix
//                      (combined in order), then each segment again from its
//                      prefix. Integer totals are exact (f64), so the segments
//                      give R's sequential answer; doubles may differ from it
//                      in the last bits, as any reordering of a sum does.
// Integer results then get R's rule that an NA (from NA in the input or an
// overflow) stays NA along the rest of the scan.
struct CumTapes {
  TapePtr step, merge, fin;
  double identity;
};

void cum_lanes_inner(const CumTapes& T, const char* xp, char* yp, size_t es, size_t os, int64_t inner, int64_t len,
                     int64_t outer, uint32_t* flags) {
  const int64_t blk = 4096, nb = (inner + blk - 1) / blk;
  std::vector<uint32_t> fl((size_t)(outer * nb), 0);
  parallel_for(outer * nb, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> acc((size_t)blk);
    const char sc[2] = {0, 0};
    for (int64_t task = lo; task < hi; ++task) {
      int64_t o = task / nb, i0 = (task % nb) * blk, m = std::min(blk, inner - i0);
      std::fill(acc.begin(), acc.begin() + m, T.identity);
      for (int64_t t = 0; t < len; ++t) {
        int64_t at = i0 + inner * (t + len * o);
        const void* ins[2] = {acc.data(), xp + at * es};
        tape_run(*T.step, ins, sc, acc.data(), m, &fl[task]);
        const void* fin_in[1] = {acc.data()};
        tape_run(*T.fin, fin_in, sc, yp + at * os, m, &fl[task]);
      }
    }
  }, std::max<int64_t>(2, kParallelMin / std::max<int64_t>(1, std::min(inner, blk) * len)));
  for (auto f : fl) *flags |= f;
}

// Strided copies between lanes and an array (elements of size es).
template <class T>
void copy_strided(T* dst, int64_t dstride, const T* src, int64_t sstride, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dst[j * dstride] = src[j * sstride];
}
void strided(char* dst, int64_t dstride, const char* src, int64_t sstride, size_t es, int64_t n) {
  switch (es) {
    case 8: return copy_strided((int64_t*)dst, dstride, (const int64_t*)src, sstride, n);
    case 4: return copy_strided((int32_t*)dst, dstride, (const int32_t*)src, sstride, n);
    default: return copy_strided((uint8_t*)dst, dstride, (const uint8_t*)src, sstride, n);
  }
}
// Lanes j < n read x[first + j * stride] / write y[first + j * stride].
void gather_lanes(char* dst, const char* x, size_t es, int64_t n, int64_t first, int64_t stride) {
  strided(dst, 1, x + first * es, stride, es, n);
}
void scatter_lanes(char* y, const char* src, size_t es, int64_t n, int64_t first, int64_t stride) {
  strided(y + first * es, stride, src, 1, es, n);
}

void cum_lanes_scans(const CumTapes& T, const char* xp, char* yp, size_t es, size_t os, int64_t len, int64_t outer,
                     uint32_t* flags) {
  const int64_t blk = kTapeBlock;
  std::vector<double> acc((size_t)blk);
  std::vector<char> xs((size_t)blk * es), ys((size_t)blk * os);
  const char sc[2] = {0, 0};
  for (int64_t o0 = 0; o0 < outer; o0 += blk) {
    int64_t m = std::min(blk, outer - o0);
    std::fill(acc.begin(), acc.begin() + m, T.identity);
    for (int64_t t = 0; t < len; ++t) {
      gather_lanes(xs.data(), xp, es, m, t + len * o0, len);
      const void* ins[2] = {acc.data(), xs.data()};
      tape_run(*T.step, ins, sc, acc.data(), m, flags);
      const void* fin_in[1] = {acc.data()};
      tape_run(*T.fin, fin_in, sc, ys.data(), m, flags);
      scatter_lanes(yp, ys.data(), os, m, t + len * o0, len);
    }
  }
}

void cum_segments(const CumTapes& T, const char* xp, char* yp, size_t es, size_t os, int64_t len, uint32_t* flags) {
  const int64_t lanes = std::min<int64_t>(kTapeBlock, len), seg = (len + lanes - 1) / lanes;
  std::vector<double> acc((size_t)lanes, T.identity), pre((size_t)lanes, T.identity);
  std::vector<char> xs((size_t)lanes * es), ys((size_t)lanes * os);
  const char sc[2] = {0, 0};
  auto active = [&](int64_t t) { return std::min<int64_t>(lanes, (len - t + seg - 1) / seg); };
  for (int64_t t = 0; t < seg; ++t) {  // segment totals
    int64_t n = active(t);
    gather_lanes(xs.data(), xp, es, n, t, seg);
    const void* ins[2] = {acc.data(), xs.data()};
    tape_run(*T.step, ins, sc, acc.data(), n, flags);
  }
  for (int64_t j = 1; j < lanes; ++j) {  // exclusive prefix, in order
    const void* ins[2] = {&pre[j - 1], &acc[j - 1]};
    tape_run(*T.merge, ins, sc, &pre[j], 1, flags);
  }
  for (int64_t t = 0; t < seg; ++t) {  // each segment from its prefix
    int64_t n = active(t);
    gather_lanes(xs.data(), xp, es, n, t, seg);
    const void* ins[2] = {pre.data(), xs.data()};
    tape_run(*T.step, ins, sc, pre.data(), n, flags);
    const void* fin_in[1] = {pre.data()};
    tape_run(*T.fin, fin_in, sc, ys.data(), n, flags);
    scatter_lanes(yp, ys.data(), os, n, t, seg);
  }
}

void cumulative_eval(const Monoid& M, const Buffer& x, Buffer& out, int64_t axis) {
  const DType in = x.dtype;
  const Shape& s = x.shape;
  if (out.size() == 0) return;
  int64_t inner = 1, len = s.empty() ? 1 : s[axis], outer = 1;
  for (int64_t d = 0; d < axis; ++d) inner *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) outer *= s[d];
  const CumTapes T{monoid_step_tape(M, in), monoid_merge_tape(M, in), monoid_finish_tape(M, in, out.dtype),
                   M.identity(in)};
  const size_t es = dtype_size(in), os = dtype_size(out.dtype);
  const char* xp = static_cast<const char*>(x.data);
  char* yp = static_cast<char*>(out.data);
  uint32_t flags = 0;
  if (inner > 1) cum_lanes_inner(T, xp, yp, es, os, inner, len, outer, &flags);
  else if (outer >= 64 || len < 2 * kTapeBlock) cum_lanes_scans(T, xp, yp, es, os, len, outer, &flags);
  else
    for (int64_t o = 0; o < outer; ++o) cum_segments(T, xp + o * len * es, yp + o * len * os, es, os, len, &flags);
  raise_warning(flags);
  if (out.dtype == DType::i32) {  // an integer NA stays NA along the rest of the scan
    int32_t* y = out.as<int32_t>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        bool na = false;
        for (int64_t t = 0; t < len; ++t) {
          int32_t& v = y[i + inner * (t + len * o)];
          if (na) v = kNAInt;
          else na = v == kNAInt;
        }
      }
  }
}

template <const Monoid* M>
void k_cumulative(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  cumulative_eval(*M, *in[0], out, a.ints.at(0));
}

template <bool Max>
void k_argext(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  const Buffer& x = *in[0];
  const bool cols = !a.ints.empty() && a.ints[0] == 1;
  const int64_t n = cols ? x.shape[0] : x.size(), reps = cols ? x.shape[1] : 1;
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    for (int64_t r = 0; r < reps; ++r) {
      const T* p = x.as<T>() + r * n;
      int64_t best = -1;
      T bv{};
      for (int64_t i = 0; i < n; ++i) {
        T v = p[i];
        bool missing;
        if constexpr (std::is_floating_point<T>::value) missing = v != v;
        else if constexpr (std::is_same<T, int32_t>::value) missing = v == kNAInt;
        else missing = v == kNABool;
        if (missing) continue;
        if (best < 0 || (Max ? v > bv : v < bv)) {
          best = i;
          bv = v;
        }
      }
      out.as<int32_t>()[r] = (int32_t)(best > INT32_MAX ? -1 : best);
    }
  });
}

// ---- VJP rules -------------------------------------------------------------------------

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

// Helpers for the cumulative rules (axis = attrs.ints[0]).
int reverse_axis(Builder& b, int v, int64_t axis) {
  const Shape s = b.type(v).shape;
  Attrs a;
  for (size_t d = 0; d < s.size(); ++d) {
    std::vector<int64_t> l((size_t)s[d]);
    std::iota(l.begin(), l.end(), 0);
    if ((int64_t)d == axis) std::reverse(l.begin(), l.end());
    a.lists.push_back(std::move(l));
  }
  return b.emit("gather", {v}, a);
}
int cumulative(Builder& b, const char* name, int v, int64_t axis) {
  Attrs a;
  a.ints = {axis};
  return b.emit(name, {v}, a);
}
int rev_cumsum(Builder& b, int v, int64_t axis) {
  return reverse_axis(b, cumulative(b, "cumsum", reverse_axis(b, v, axis), axis), axis);
}

std::vector<int> vjp_cumsum(Builder& b, const Node& n, int, int g) {
  if (!is_float(b.type(n.in[0]).dtype)) return {-1};
  return {rev_cumsum(b, g, n.attrs.ints.at(0))};
}

// ---- matrix views for the cumulative rules ----------------------------------------

// v (of x's shape) as a [k, len] matrix with the axis last, and back.
struct AxisView {
  Type t;
  int64_t axis, len, k;
  std::vector<int64_t> perm;
  AxisView(const Type& type, int64_t ax) : t(type), axis(ax) {
    len = t.shape.empty() ? 1 : t.shape[ax];
    k = len ? t.size() / len : 0;
    for (int64_t i = 0; i < t.rank(); ++i)
      if (i != ax) perm.push_back(i);
    if (t.rank() > 0) perm.push_back(ax);
  }
  int to_mat(Builder& b, int v) const {
    if (t.rank() > 1) v = b.transpose(v, perm);
    return b.reshape(v, {k, len});
  }
  int from_mat(Builder& b, int v) const {
    if (t.rank() <= 1) return b.reshape(v, t.shape);
    Shape ps;
    for (auto p : perm) ps.push_back(t.shape[p]);
    std::vector<int64_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = (int64_t)i;
    return b.transpose(b.reshape(v, ps), inv);
  }
};

// Columns [from, from + count) of a [k, len] matrix.
int columns(Builder& b, int m, int64_t from, int64_t count) {
  const Shape s = b.type(m).shape;
  Attrs a;
  std::vector<int64_t> rows((size_t)s[0]), cols((size_t)count);
  std::iota(rows.begin(), rows.end(), 0);
  std::iota(cols.begin(), cols.end(), from);
  a.lists = {rows, cols};
  return b.emit("gather", {m}, a);
}
int cbind2(Builder& b, int l, int r) {
  Attrs a;
  a.ints = {1};
  return b.emit("concat", {l, r}, a);
}

// A reverse scan over the columns of [k, len] matrices xs with a [k] carry
// starting at 0: body(carry, x slices...) -> (carry', y), stacked ys returned.
template <class Body>
int reverse_scan(Builder& b, DType d, int64_t k, int64_t len, const std::vector<int>& xs, Body body) {
  auto g = std::make_shared<Graph>();
  const Type lane{d, {k}};
  int carry = g->add_param(lane, "<carry>");
  std::vector<int> slices;
  for (size_t i = 0; i < xs.size(); ++i) slices.push_back(g->add_param(lane, "<x>"));
  {
    Builder bb(*g);
    auto r = body(bb, carry, slices);
    g->outputs = {r.first, r.second};
  }
  g->closed = true;
  Attrs a;
  a.ints = {len, 1, (int64_t)xs.size(), 1};  // length, one carry, the xs, reverse
  std::vector<int> in = {b.full(0, lane)};
  in.insert(in.end(), xs.begin(), xs.end());
  return b.emit_tuple("scan", in, {g}, a, {lane, Type{d, {k, len}}})[1];
}

// cumprod: with P_t = prod_{u <= t} x_u, d/dx_s sum_t g_t P_t is
// P_{s-1} Q_s with Q_s = sum_{t >= s} g_t prod_{s < u <= t} x_u, i.e. the
// reverse recurrence Q_s = g_s + x_{s+1} Q_{s+1}: a reverse scan. Only
// products and sums, no division, so zeros anywhere in x give the exact
// gradient, and the rule differentiates exactly again (second order).
std::vector<int> vjp_cumprod(Builder& b, const Node& n, int y, int g) {
  int x = n.in[0];
  const Type xt = b.type(x);
  if (!is_float(xt.dtype)) return {-1};
  if (xt.size() == 0) return {b.zeros_like(x)};
  const AxisView V(xt, n.attrs.ints.at(0));
  const DType d = xt.dtype;
  int X = V.to_mat(b, x), Y = V.to_mat(b, y), G = V.to_mat(b, g);
  int next = cbind2(b, columns(b, X, 1, V.len - 1), b.full(0, Type{d, {V.k, 1}}));
  int pexcl = cbind2(b, b.full(1, Type{d, {V.k, 1}}), columns(b, Y, 0, V.len - 1));
  int Q = reverse_scan(b, d, V.k, V.len, {G, next}, [](Builder& bb, int q, const std::vector<int>& xs) {
    int q2 = bb.add(xs[0], bb.mul(xs[1], q));
    return std::make_pair(q2, q2);
  });
  return {V.from_mat(b, b.mul(pexcl, Q))};
}

// prod: d/dx_i prod(x) = (product of the elements before i) x (product of
// those after), from exclusive running products in both directions over the
// reduced elements: exact with zeros, and differentiable again.
std::vector<int> vjp_prod(Builder& b, const Node& n, int, int g) {
  int x = n.in[0];
  const Type xt = b.type(x);
  const DType d = xt.dtype;
  if (!is_float(d)) return {-1};
  if (xt.size() == 0) return {b.zeros_like(x)};
  // [kept..., reduced...] -> a [k, len] matrix whose rows are the reductions.
  std::vector<int64_t> perm;
  int64_t len = 1;
  for (int64_t i = 0; i < xt.rank(); ++i)
    if (!std::binary_search(n.attrs.ints.begin(), n.attrs.ints.end(), i)) perm.push_back(i);
  for (auto ax : n.attrs.ints) {
    perm.push_back(ax);
    len *= xt.shape[ax];
  }
  const int64_t k = xt.size() / len;
  int X = b.reshape(xt.rank() > 1 ? b.transpose(x, perm) : x, {k, len});
  auto rev = [&](int m) { return reverse_axis(b, m, 1); };
  auto excl = [&](int m) {  // exclusive running product along the columns
    return cbind2(b, b.full(1, Type{d, {k, 1}}), columns(b, cumulative(b, "cumprod", m, 1), 0, len - 1));
  };
  int before = excl(X), after = rev(excl(rev(X)));
  int G = b.broadcast_to(b.reshape(g, {k, 1}), {k, len});
  int r = b.mul(b.mul(before, after), G);
  if (xt.rank() <= 1) return {b.reshape(r, xt.shape)};
  Shape ps;
  for (auto p : perm) ps.push_back(xt.shape[p]);
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = (int64_t)i;
  return {b.transpose(b.reshape(r, ps), inv)};
}

// cummax/cummin: y_t's cotangent goes to the latest position s <= t where
// x_s == y_s (the element that set the running extreme). A reverse scan
// carries the cotangent accumulated since the next such position:
//   acc' = (1 - m_t) (acc + g_t),  dx_t = m_t (acc + g_t).
std::vector<int> vjp_cumext(Builder& b, const Node& n, int y, int g) {
  int x = n.in[0];
  const Type xt = b.type(x);
  if (!is_float(xt.dtype)) return {-1};
  if (xt.size() == 0) return {b.zeros_like(x)};
  const AxisView V(xt, n.attrs.ints.at(0));
  const DType d = xt.dtype;
  int G = V.to_mat(b, g), M = V.to_mat(b, b.convert(b.emit("eq", {x, y}), d));
  int dx = reverse_scan(b, d, V.k, V.len, {G, M}, [d](Builder& bb, int acc, const std::vector<int>& xs) {
    int s = bb.add(acc, xs[0]);
    return std::make_pair(bb.mul(bb.sub(bb.scalar(1, d), xs[1]), s), bb.mul(xs[1], s));
  });
  return {V.from_mat(b, dx)};
}

std::string print_axes(const Attrs& a) { return ints_attr("axes", a.ints); }
std::string print_axis(const Attrs& a) { return "axis=" + std::to_string(a.ints.at(0)); }
std::string print_none(const Attrs&) { return ""; }


// ---- batching rules: the batch axis last, so the reduced axes keep their numbers

int batch_reduce(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                 const std::vector<int>& ax, int* oax) {
  int x = batch_last(b, v[0], ax[0], batch_size(b, v, ax));
  *oax = n.type.rank();
  return b.emit(n.prim, {x}, n.attrs);
}
int batch_cumulative(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                     const std::vector<int>& ax, int* oax) {
  const int64_t B = batch_size(b, v, ax);
  int x = batch_last(b, v[0], ax[0], B);
  if (ts[0].rank() == 0) {  // the running value of a scalar is itself
    *oax = 0;
    return b.reshape(b.emit(n.prim, {b.reshape(x, {1, B})}, n.attrs), {B});
  }
  *oax = ts[0].rank();
  return b.emit(n.prim, {x}, n.attrs);
}
// argmax/argmin of every slice along the trailing axis (attrs.ints = {1}).
int batch_arg(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
              const std::vector<int>& ax, int* oax) {
  const int64_t B = batch_size(b, v, ax);
  int x = batch_last(b, v[0], ax[0], B);
  const Type t = b.type(x);
  Attrs a = n.attrs;
  a.ints = {1};
  if (!n.attrs.ints.empty() && n.attrs.ints[0] == 1) {  // already column-wise: [k, m, B] is [k, m B]
    const Shape s = t.shape;
    *oax = 1;
    return b.reshape(b.emit(n.prim, {b.reshape(x, {s[0], s[1] * s[2]})}, a), {s[1], s[2]});
  }
  int64_t inner = t.size() / std::max<int64_t>(B, 1);
  *oax = 0;
  return b.emit(n.prim, {b.reshape(x, {inner, B})}, a);
}

PrimDef red(const char* name, const char* r_name, InferFn infer, EvalFn eval, const Monoid* m, VjpFn vjp,
            const char* nondiff = nullptr) {
  PrimDef d = make_prim(name, 1, infer, eval, vjp, print_axes);
  d.monoid = m;
  d.reduces = true;
  d.nondiff = nondiff;
  d.r_name = r_name;
  d.jvp = nondiff ? jvp_zero : m == &kSum ? jvp_linear : jvp_by_transpose;
  d.batch = batch_reduce;
  return d;
}
PrimDef cum(const char* name, InferFn infer, EvalFn eval, const Monoid* m, VjpFn vjp) {
  PrimDef d = make_prim(name, 1, infer, eval, vjp, print_axis);
  d.monoid = m;
  d.r_name = name;
  d.backends = kBackendInterp | kBackendLlvm;  // the llvm backend calls the interpreter's kernel
  d.jvp = m == &kCumsum ? jvp_linear : jvp_by_transpose;
  d.batch = batch_cumulative;
  return d;
}
PrimDef arg(const char* name, const char* r_name, EvalFn eval) {
  PrimDef d = make_prim(name, 1, infer_arg, eval, nullptr, print_none);
  d.nondiff = "an integer position: it carries no derivative";
  d.r_name = r_name;
  d.jvp = jvp_zero;
  d.batch = batch_arg;
  return d;
}

const char* kLogical = "the result is logical (bool): it carries no derivative";

PrimRegistration regs[] = {
    PrimRegistration(red("reduce_sum", "sum", infer_sum, k_reduce<&kSum>, &kSum, vjp_sum)),
    PrimRegistration(red("reduce_prod", "prod", infer_prod, k_reduce<&kProd>, &kProd, vjp_prod)),
    PrimRegistration(red("reduce_max", "max", infer_extreme, k_reduce<&kMax>, &kMax, vjp_extreme)),
    PrimRegistration(red("reduce_min", "min", infer_extreme, k_reduce<&kMin>, &kMin, vjp_extreme)),
    PrimRegistration(red("reduce_any", "any", infer_logical, k_reduce<&kAny>, &kAny, nullptr, kLogical)),
    PrimRegistration(red("reduce_all", "all", infer_logical, k_reduce<&kAll>, &kAll, nullptr, kLogical)),
    PrimRegistration(cum("cumsum", infer_cumsum, k_cumulative<&kCumsum>, &kCumsum, vjp_cumsum)),
    PrimRegistration(cum("cumprod", infer_cumprod, k_cumulative<&kProd>, &kProd, vjp_cumprod)),
    PrimRegistration(cum("cummax", infer_cumext, k_cumulative<&kCummax>, &kCummax, vjp_cumext)),
    PrimRegistration(cum("cummin", infer_cumext, k_cumulative<&kCummin>, &kCummin, vjp_cumext)),
    PrimRegistration(arg("argmax", "which.max", k_argext<true>)),
    PrimRegistration(arg("argmin", "which.min", k_argext<false>)),
};

}  // namespace
}  // namespace rj
