// Counter-based random numbers (R/random.R): the threefry2x32-20 block
// cipher of Salmon et al. (Random123), used as JAX does, so a key and a
// counter always give the same bits: eagerly, under jit, under vmap, inside
// loops and on every backend (each backend runs these kernels).
//
// Keys are i32[2] arrays holding the two 32-bit words of a JAX key (bit
// patterns; R has no unsigned integers). Primitives:
//   rng_threefry(key, counts)  JAX's threefry_2x32(key, counts): the counts
//                              (i32[m]) are split into halves x0, x1 (padded
//                              with a 0 when m is odd), enciphered, and
//                              concatenated back to m words
//   rng_unit(hi[, lo])         JAX's bits -> float in [0, 1): 23 (f32) or 52
//                              (f64, from two words) random mantissa bits
//   rng_gamma(key, alpha)      Gamma(alpha, 1) per element (Marsaglia-Tsang)
//   rng_poisson(key, lambda)   Poisson(lambda) per element (Knuth below 10,
//                              Hormann's transformed rejection above), i32
//   rng_permutation(key)       a random permutation of 1..n (Fisher-Yates), i32
// Element i of rng_gamma/rng_poisson/rng_permutation draws from its own
// stream: the words threefry(key, (i, j)) for j = 0, 1, ...
//
// Batching (vmap over keys): a key of shape [2, B] is a stack of B keys
// along the trailing axis; every other input then has its lanes along its
// trailing axis too, and lane b of the result is what key b gives alone.
// None of them has a derivative (the draws are constants of the program).
#include <cmath>
#include <cstring>
#include <limits>

#include "prim_util.h"

namespace rj {
namespace {

inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

// threefry2x32 with 20 rounds on one block.
inline void threefry(uint32_t k0, uint32_t k1, uint32_t& x0, uint32_t& x1) {
  static const int rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  const uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  x0 += ks[0];
  x1 += ks[1];
  for (int g = 0; g < 5; ++g) {
    for (int r = 0; r < 4; ++r) {
      x0 += x1;
      x1 = rotl(x1, rot[g % 2][r]);
      x1 ^= x0;
    }
    x0 += ks[(g + 1) % 3];
    x1 += ks[(g + 2) % 3] + (uint32_t)(g + 1);
  }
}

uint32_t word(const Buffer& b, int64_t i) {
  uint32_t w;
  std::memcpy(&w, b.as<int32_t>() + i, 4);
  return w;
}
void put(Buffer& b, int64_t i, uint32_t w) { std::memcpy(b.as<int32_t>() + i, &w, 4); }

// Lanes of a stacked input: its trailing extent when it is batched (rank
// above the unbatched rank), else 1 (shared by every lane).
int64_t lanes(const Type& t, int unbatched_rank) { return t.rank() > unbatched_rank ? t.shape.back() : 1; }

void check_key(const Type& t, const char* op) {
  if (t.dtype != DType::i32 || t.rank() < 1 || t.rank() > 2 || t.shape[0] != 2)
    fail("type", std::string(op) + ": a key is an i32 vector of length 2 (from rj_key() or rj_split()), got " + t.str());
}

// ---- threefry on counts -----------------------------------------------------------

Type infer_threefry(const std::vector<Type>& in, const Attrs&) {
  check_key(in[0], "random draw");
  if (in[1].dtype != DType::i32 || in[1].rank() < 1 || in[1].rank() > 2) fail("internal", "rng_threefry: bad counts");
  const int64_t bk = lanes(in[0], 1), bc = lanes(in[1], 1);
  if (bk > 1 && bc > 1 && bk != bc) fail("shape", "random draw: stacks of keys and counts differ in length");
  Shape s = {in[1].shape[0]};
  if (in[0].rank() == 2 || in[1].rank() == 2) s.push_back(std::max(bk, bc));
  return Type{DType::i32, s};
}

void k_threefry(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  const Buffer &key = *in[0], &cnt = *in[1];
  const int64_t m = cnt.shape[0];
  const int64_t B = out.shape.size() == 2 ? out.shape[1] : 1;
  const bool kb = key.shape.size() == 2, cb = cnt.shape.size() == 2;
  const int64_t half = (m + 1) / 2;
  parallel_for(B, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const uint32_t k0 = word(key, kb ? 2 * b : 0), k1 = word(key, kb ? 2 * b + 1 : 1);
      const int64_t co = cb ? b * m : 0, oo = b * m;
      for (int64_t i = 0; i < half; ++i) {
        uint32_t x0 = word(cnt, co + i);
        uint32_t x1 = i + half < m ? word(cnt, co + i + half) : 0u;
        threefry(k0, k1, x0, x1);
        put(out, oo + i, x0);
        if (i + half < m) put(out, oo + i + half, x1);
      }
    }
  });
}

int batch_keyed(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                const std::vector<int>& ax, int* oax) {
  const int64_t B = batch_size(b, v, ax);
  std::vector<int> in;
  for (size_t k = 0; k < v.size(); ++k) in.push_back(batch_last(b, v[k], ax[k], B));
  int r = b.emit(n.prim, in, n.attrs);
  *oax = b.type(r).rank() - 1;
  (void)ts;
  return r;
}

// ---- bits to floats -----------------------------------------------------------------

Type infer_unit(const std::vector<Type>& in, const Attrs& a) {
  for (auto& t : in)
    if (t.dtype != DType::i32 || t.shape != in[0].shape) fail("internal", "rng_unit: i32 words of one shape expected");
  if (!is_float(a.dtype) || (a.dtype == DType::f64) != (in.size() == 2)) fail("internal", "rng_unit: one word per f32, two per f64");
  return Type{a.dtype, in[0].shape};
}

void k_unit(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  const int64_t n = out.size();
  if (a.dtype == DType::f32) {
    float* o = out.as<float>();
    for (int64_t i = 0; i < n; ++i) {
      uint32_t bits = (word(*in[0], i) >> 9) | 0x3F800000u;
      float f;
      std::memcpy(&f, &bits, 4);
      o[i] = f - 1.0f;
    }
    return;
  }
  double* o = out.as<double>();
  for (int64_t i = 0; i < n; ++i) {
    uint64_t bits = ((uint64_t)word(*in[0], i) << 32) | word(*in[1], i);
    bits = (bits >> 12) | 0x3FF0000000000000ull;
    double d;
    std::memcpy(&d, &bits, 8);
    o[i] = d - 1.0;
  }
}

// ---- per-element streams: gamma, poisson, permutation ------------------------------------

// The uniforms of element i's stream: words threefry(key, (i, j)), j = 0, 1, ...,
// each mapped to (0, 1) with 32 random bits.
struct Stream {
  uint32_t k0, k1, i, j = 0, buf = 0;
  bool have = false;
  double next() {
    uint32_t w;
    if (have) {
      w = buf;
      have = false;
    } else {
      uint32_t x0 = i, x1 = j++;
      threefry(k0, k1, x0, x1);
      w = x0;
      buf = x1;
      have = true;
    }
    return ((double)w + 0.5) * (1.0 / 4294967296.0);
  }
  double normal() {  // Box-Muller (one of the pair)
    double u1 = next(), u2 = next();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
  }
};

double draw_gamma(Stream& s, double a) {
  if (!(a > 0) || !std::isfinite(a)) return a == 0 ? 0 : std::numeric_limits<double>::quiet_NaN();
  double boost = 1;
  if (a < 1) {  // Gamma(a) = Gamma(a + 1) U^(1/a)
    boost = std::pow(s.next(), 1 / a);
    a += 1;
  }
  const double d = a - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = s.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = s.next();
    if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v * boost;
  }
}

int32_t draw_poisson(Stream& s, double lam) {
  if (!(lam >= 0) || !std::isfinite(lam) || lam > 2e9) return kNAInt;
  if (lam < 10) {  // Knuth: multiply uniforms until below exp(-lam)
    const double L = std::exp(-lam);
    double p = 1;
    int32_t k = -1;
    do {
      ++k;
      p *= s.next();
    } while (p > L);
    return k;
  }
  // Hormann (1993), transformed rejection with squeeze (PTRS).
  const double slam = std::sqrt(lam), loglam = std::log(lam);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double U = s.next() - 0.5, V = s.next();
    const double us = 0.5 - std::fabs(U);
    const double k = std::floor((2 * a / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= vr) return (int32_t)k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (std::log(V) + std::log(invalpha) - std::log(a / (us * us) + b) <= -lam + k * loglam - std::lgamma(k + 1))
      return (int32_t)k;
  }
}

Type infer_gamma(const std::vector<Type>& in, const Attrs&) {
  check_key(in[0], "rj_gamma");
  if (!is_float(in[1].dtype)) fail("dtype", "rj_gamma: the shape parameter must be a float array");
  return Type{in[1].dtype, in[1].shape};
}
Type infer_poisson(const std::vector<Type>& in, const Attrs&) {
  check_key(in[0], "rj_poisson");
  if (!is_float(in[1].dtype)) fail("dtype", "rj_poisson: lambda must be a float array");
  return Type{DType::i32, in[1].shape};
}

// Runs f(stream, element index within its lane, linear index) for every
// element of a parameter array whose lanes (when the key is a stack) are
// along its trailing axis.
template <class F>
void per_element(const Buffer& key, int64_t total, F f) {
  const bool kb = key.shape.size() == 2;
  const int64_t B = kb ? key.shape[1] : 1, per = B ? total / B : 0;
  parallel_for(total, 1024, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = per ? t / per : 0, i = per ? t % per : t;
      Stream s{word(key, kb ? 2 * b : 0), word(key, kb ? 2 * b + 1 : 1), (uint32_t)i};
      f(s, t);
    }
  });
}

void k_gamma(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(out.dtype, "rj_gamma", [&](auto z) {
    using T = decltype(z);
    const T* a = in[1]->as<T>();
    T* o = out.as<T>();
    per_element(*in[0], out.size(), [&](Stream& s, int64_t t) { o[t] = (T)draw_gamma(s, (double)a[t]); });
  });
}

void k_poisson(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(in[1]->dtype, "rj_poisson", [&](auto z) {
    using T = decltype(z);
    const T* l = in[1]->as<T>();
    int32_t* o = out.as<int32_t>();
    per_element(*in[0], out.size(), [&](Stream& s, int64_t t) { o[t] = draw_poisson(s, (double)l[t]); });
  });
}

Type infer_permutation(const std::vector<Type>& in, const Attrs& a) {
  check_key(in[0], "rj_permutation");
  Shape s = {a.ints.at(0)};
  if (in[0].rank() == 2) s.push_back(in[0].shape[1]);
  return Type{DType::i32, s};
}

void k_permutation(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  const Buffer& key = *in[0];
  const int64_t n = a.ints.at(0), B = key.shape.size() == 2 ? key.shape[1] : 1;
  const bool kb = key.shape.size() == 2;
  int32_t* o = out.as<int32_t>();
  parallel_for(B, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      int32_t* p = o + b * n;
      for (int64_t i = 0; i < n; ++i) p[i] = (int32_t)(i + 1);
      Stream s{word(key, kb ? 2 * b : 0), word(key, kb ? 2 * b + 1 : 1), 0u};
      for (int64_t i = n - 1; i > 0; --i) {
        int64_t j = (int64_t)(s.next() * (double)(i + 1));
        if (j > i) j = i;
        std::swap(p[i], p[j]);
      }
    }
  });
}

std::string print_dtype(const Attrs& a) { return std::string("dtype=") + dtype_name(a.dtype); }
std::string print_n(const Attrs& a) { return "n=" + std::to_string(a.ints.at(0)); }
std::string print_none(const Attrs&) { return ""; }

const char* kRandom = "a random draw: a constant of the program, with no derivative (as in JAX)";

PrimDef rng(const char* name, const char* r_name, int arity, InferFn infer, EvalFn eval, BatchFn batch,
            std::string (*pa)(const Attrs&)) {
  PrimDef d = make_prim(name, arity, infer, eval, nullptr, pa);
  d.r_name = r_name;
  d.nondiff = kRandom;
  d.jvp = jvp_zero;
  d.batch = batch;
  return d;
}

PrimRegistration regs[] = {
    PrimRegistration(rng("rng_threefry", "rj_fold_in", 2, infer_threefry, k_threefry, batch_keyed, print_none)),
    PrimRegistration(rng("rng_unit", "rj_uniform", -1, infer_unit, k_unit, batch_elementwise, print_dtype)),
    PrimRegistration(rng("rng_gamma", "rj_gamma", 2, infer_gamma, k_gamma, batch_keyed, print_none)),
    PrimRegistration(rng("rng_poisson", "rj_poisson", 2, infer_poisson, k_poisson, batch_keyed, print_none)),
    PrimRegistration(rng("rng_permutation", "rj_permutation", 1, infer_permutation, k_permutation, batch_keyed, print_n)),
};

}  // namespace
}  // namespace rj
