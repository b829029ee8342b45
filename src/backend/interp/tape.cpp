// The interpreter's renderer of scalar descriptions (see tape.h): the
// recorder (a ScalarBuilder that appends instructions), slot allocation,
// and the block evaluator that implements every basis op once in C++.
#include "tape.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <type_traits>
#include <unordered_map>

#include "../../prims/prim_util.h"

namespace rj {

struct Instr {
  enum Kind : uint8_t { k_input, k_const, k_op, k_special, k_warn } kind = k_op;
  SOp op = SOp::add;
  DType dt = DType::f64;   // result dtype
  DType adt = DType::f64;  // dtype of operand 0
  int n = 0;
  int a[3] = {-1, -1, -1};  // operand value ids
  int out = -1;             // value id (-1 for warn)
  double cval = 0;
  const SpecialFn* sf = nullptr;
  uint32_t code = 0;
  int input = -1;
};

struct Tape {
  std::vector<Instr> code;
  std::vector<DType> in_dtypes;
  std::vector<DType> val_dtype;
  std::vector<int> slot;        // per value (-1: an input read in place)
  std::vector<int> input_val;   // per input: its value id
  std::vector<int> input_slot;  // per input: slot used when it is a broadcast scalar
  int n_slots = 0;
  int result = -1;
  bool result_computed = false;  // produced by an op or a special call
};

DType tape_result_dtype(const Tape& t) { return t.val_dtype.at(t.result); }

namespace {

struct Recorder : ScalarBuilder {
  Tape& t;
  std::unordered_map<std::string, int> consts;
  explicit Recorder(Tape& tape) : t(tape) {}

  int new_val(DType d) {
    t.val_dtype.push_back(d);
    return (int)t.val_dtype.size() - 1;
  }
  SVal constant(double v, DType d) override {
    std::string k(reinterpret_cast<const char*>(&v), sizeof v);
    k += (char)d;
    auto it = consts.find(k);
    if (it != consts.end()) return SVal{it->second, d};
    Instr i;
    i.kind = Instr::k_const;
    i.dt = d;
    i.cval = v;
    i.out = new_val(d);
    t.code.push_back(i);
    consts[k] = i.out;
    return SVal{i.out, d};
  }
  SVal basis(SOp o, const SVal* a, int n, DType result) override {
    Instr i;
    i.kind = Instr::k_op;
    i.op = o;
    i.dt = result;
    i.adt = a[0].dtype;
    i.n = n;
    for (int k = 0; k < n; ++k) i.a[k] = a[k].id;
    i.out = new_val(result);
    t.code.push_back(i);
    return SVal{i.out, result};
  }
  SVal call_special(const SpecialFn& f, const std::vector<SVal>& args) override {
    Instr i;
    i.kind = Instr::k_special;
    i.sf = &f;
    i.dt = args[0].dtype;
    i.adt = args[0].dtype;
    i.n = (int)args.size();
    for (int k = 0; k < i.n; ++k) i.a[k] = args[k].id;
    i.out = new_val(i.dt);
    t.code.push_back(i);
    return SVal{i.out, i.dt};
  }
  void warn_if(SVal c, uint32_t code) override {
    if (c.dtype != DType::b8) fail("internal", "warn_if needs a bool condition");
    Instr i;
    i.kind = Instr::k_warn;
    i.n = 1;
    i.a[0] = c.id;
    i.code = code;
    t.code.push_back(i);
  }
};

// Slots: constants and broadcast inputs keep theirs; computed values get a
// slot freed by values whose last use came strictly before (never one freed
// by the same instruction, so in-place loops cannot clobber a wider operand).
void allocate(Tape& t) {
  size_t nv = t.val_dtype.size();
  std::vector<int> last(nv, -1);
  for (size_t k = 0; k < t.code.size(); ++k)
    for (int j = 0; j < t.code[k].n; ++j) last[t.code[k].a[j]] = (int)k;
  t.slot.assign(nv, -1);
  std::vector<int> free_slots;
  std::vector<char> computed(nv, 0);
  for (size_t k = 0; k < t.code.size(); ++k) {
    const Instr& i = t.code[k];
    if (i.kind == Instr::k_const) t.slot[i.out] = t.n_slots++;
    if (i.kind == Instr::k_op || i.kind == Instr::k_special) {
      computed[i.out] = 1;
      if (free_slots.empty()) t.slot[i.out] = t.n_slots++;
      else {
        t.slot[i.out] = free_slots.back();
        free_slots.pop_back();
      }
    }
    for (int j = 0; j < i.n; ++j) {
      int u = i.a[j];
      if (last[u] == (int)k && computed[u] && u != t.result) {
        free_slots.push_back(t.slot[u]);
        computed[u] = 0;  // freed once even if read twice here
      }
    }
  }
  for (size_t k = 0; k < t.input_val.size(); ++k) t.input_slot.push_back(t.n_slots++);
}

// ---- the basis ops on blocks ------------------------------------------------------
// Every loop writes a block that no operand of the same instruction
// occupies (allocate() never reuses a slot freed by the same instruction,
// and tape_run copies out when the caller runs in place), hence __restrict.

template <class F>
inline void with_float(DType d, F f) {
  if (d == DType::f32) f(float{});
  else f(double{});
}

template <class T> inline T wrap_add(T a, T b) {
  if constexpr (std::is_integral<T>::value) return (T)((uint32_t)a + (uint32_t)b);
  else return a + b;
}
template <class T> inline T wrap_sub(T a, T b) {
  if constexpr (std::is_integral<T>::value) return (T)((uint32_t)a - (uint32_t)b);
  else return a - b;
}
template <class T> inline T wrap_mul(T a, T b) {
  if constexpr (std::is_integral<T>::value) return (T)((uint32_t)a * (uint32_t)b);
  else return a * b;
}
template <class T> inline T wrap_neg(T a) {
  if constexpr (std::is_integral<T>::value) return (T)(0u - (uint32_t)a);
  else return -a;
}
template <class T> inline T int_div(T a, T b) {
  if constexpr (std::is_integral<T>::value) return b == 0 ? 0 : b == -1 ? wrap_neg(a) : (T)(a / b);
  else return a / b;
}
inline int32_t floordiv_i(int32_t a, int32_t b) {
  if (b == 0) return 0;
  if (b == -1) return wrap_neg(a);
  int32_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int32_t floormod_i(int32_t a, int32_t b) {
  if (b == 0 || b == -1) return 0;
  int32_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
template <class T> inline T min_of(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) return b != b ? b : a != a ? a : (b < a ? b : a);
  else return b < a ? b : a;
}
template <class T> inline T max_of(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) return b != b ? b : a != a ? a : (b > a ? b : a);
  else return b > a ? b : a;
}
inline int32_t sat_i32(double x) {
  if (x != x) return 0;
  if (x >= 2147483647.0) return INT32_MAX;
  if (x <= -2147483648.0) return INT32_MIN;
  return (int32_t)x;
}
template <class TO, class TI> inline TO cvt(TI x) {
  if constexpr (std::is_same<TO, uint8_t>::value) return (TO)(x != 0);
  else if constexpr (std::is_same<TI, uint8_t>::value) return (TO)(x != 0 ? 1 : 0);
  else if constexpr (std::is_floating_point<TI>::value && std::is_same<TO, int32_t>::value) return sat_i32((double)x);
  else return (TO)x;
}
template <class T> inline uint8_t na_value_of(T x) {
  if constexpr (std::is_same<T, double>::value) return is_na_real(x);
  else if constexpr (std::is_same<T, float>::value) return 0;
  else if constexpr (std::is_same<T, int32_t>::value) return x == kNAInt;
  else return x == kNABool;
}

template <class T> inline T const_as(double v) {
  if constexpr (std::is_same<T, uint8_t>::value) return (uint8_t)v;
  else if constexpr (std::is_same<T, int32_t>::value) return sat_i32(v);
  else return (T)v;
}

#define RJ_MAP1(T, EXPR)                                        \
  {                                                             \
    const T* __restrict xa = static_cast<const T*>(p[0]);       \
    T* __restrict y = static_cast<T*>(po);                      \
    for (int j = 0; j < m; ++j) {                               \
      T a = xa[j];                                              \
      y[j] = (EXPR);                                            \
    }                                                           \
  }
#define RJ_MAP2(T, TO, EXPR)                                    \
  {                                                             \
    const T* __restrict xa = static_cast<const T*>(p[0]);       \
    const T* __restrict xb = static_cast<const T*>(p[1]);       \
    TO* __restrict y = static_cast<TO*>(po);                    \
    for (int j = 0; j < m; ++j) {                               \
      T a = xa[j], b = xb[j];                                   \
      y[j] = (EXPR);                                            \
    }                                                           \
  }

void exec_op(const Instr& in, void* const* p, void* po, int m) {
  const DType d = in.adt;
  switch (in.op) {
    case SOp::add: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, T, wrap_add(a, b)) }); return;
    case SOp::sub: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, T, wrap_sub(a, b)) }); return;
    case SOp::mul: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, T, wrap_mul(a, b)) }); return;
    case SOp::div: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, T, int_div(a, b)) }); return;
    case SOp::floordiv: RJ_MAP2(int32_t, int32_t, floordiv_i(a, b)) return;
    case SOp::floormod: RJ_MAP2(int32_t, int32_t, floormod_i(a, b)) return;
    case SOp::neg: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP1(T, wrap_neg(a)) }); return;
    case SOp::abs:
      dispatch(d, [&](auto z) {
        using T = decltype(z);
        if constexpr (std::is_floating_point<T>::value) RJ_MAP1(T, std::fabs(a))
        else RJ_MAP1(T, a < 0 ? wrap_neg(a) : a)
      });
      return;
    case SOp::min: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, T, min_of(a, b)) }); return;
    case SOp::max: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, T, max_of(a, b)) }); return;
    case SOp::eq: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, uint8_t, a == b) }); return;
    case SOp::ne: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, uint8_t, a != b) }); return;
    case SOp::lt: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, uint8_t, a < b) }); return;
    case SOp::le: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, uint8_t, a <= b) }); return;
    case SOp::gt: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, uint8_t, a > b) }); return;
    case SOp::ge: dispatch(d, [&](auto z) { using T = decltype(z); RJ_MAP2(T, uint8_t, a >= b) }); return;
    case SOp::and_: RJ_MAP2(uint8_t, uint8_t, (uint8_t)((a != 0) & (b != 0))) return;
    case SOp::or_: RJ_MAP2(uint8_t, uint8_t, (uint8_t)((a != 0) | (b != 0))) return;
    case SOp::not_: RJ_MAP1(uint8_t, (uint8_t)(a == 0)) return;
    case SOp::select:
      dispatch(in.dt, [&](auto z) {
        using T = decltype(z);
        const uint8_t* __restrict c = static_cast<const uint8_t*>(p[0]);
        const T* __restrict a = static_cast<const T*>(p[1]);
        const T* __restrict b = static_cast<const T*>(p[2]);
        T* __restrict y = static_cast<T*>(po);
        for (int j = 0; j < m; ++j) y[j] = c[j] ? a[j] : b[j];
      });
      return;
    case SOp::convert:
      dispatch(d, [&](auto zi) {
        using TI = decltype(zi);
        dispatch(in.dt, [&](auto zo) {
          using TO = decltype(zo);
          const TI* __restrict x = static_cast<const TI*>(p[0]);
          TO* __restrict y = static_cast<TO*>(po);
          for (int j = 0; j < m; ++j) y[j] = cvt<TO, TI>(x[j]);
        });
      });
      return;
    case SOp::is_nan:
      dispatch(d, [&](auto z) {
        using T = decltype(z);
        const T* __restrict x = static_cast<const T*>(p[0]);
        uint8_t* __restrict y = static_cast<uint8_t*>(po);
        for (int j = 0; j < m; ++j) y[j] = x[j] != x[j];
      });
      return;
    case SOp::is_na_value:
      dispatch(d, [&](auto z) {
        using T = decltype(z);
        const T* __restrict x = static_cast<const T*>(p[0]);
        uint8_t* __restrict y = static_cast<uint8_t*>(po);
        for (int j = 0; j < m; ++j) y[j] = na_value_of(x[j]);
      });
      return;
    default: break;
  }
  // Float functions of the C library.
  with_float(d, [&](auto z) {
    using T = decltype(z);
    switch (in.op) {
      case SOp::floor: RJ_MAP1(T, std::floor(a)) return;
      case SOp::ceil: RJ_MAP1(T, std::ceil(a)) return;
      case SOp::trunc: RJ_MAP1(T, std::trunc(a)) return;
      case SOp::rint: RJ_MAP1(T, std::nearbyint(a)) return;
      case SOp::sqrt: RJ_MAP1(T, std::sqrt(a)) return;
      case SOp::exp: RJ_MAP1(T, std::exp(a)) return;
      case SOp::expm1: RJ_MAP1(T, std::expm1(a)) return;
      case SOp::log: RJ_MAP1(T, std::log(a)) return;
      case SOp::log1p: RJ_MAP1(T, std::log1p(a)) return;
      case SOp::sin: RJ_MAP1(T, std::sin(a)) return;
      case SOp::cos: RJ_MAP1(T, std::cos(a)) return;
      case SOp::tan: RJ_MAP1(T, std::tan(a)) return;
      case SOp::asin: RJ_MAP1(T, std::asin(a)) return;
      case SOp::acos: RJ_MAP1(T, std::acos(a)) return;
      case SOp::atan: RJ_MAP1(T, std::atan(a)) return;
      case SOp::sinh: RJ_MAP1(T, std::sinh(a)) return;
      case SOp::cosh: RJ_MAP1(T, std::cosh(a)) return;
      case SOp::tanh: RJ_MAP1(T, std::tanh(a)) return;
      case SOp::asinh: RJ_MAP1(T, std::asinh(a)) return;
      case SOp::acosh: RJ_MAP1(T, std::acosh(a)) return;
      case SOp::atanh: RJ_MAP1(T, std::atanh(a)) return;
      case SOp::tgamma: RJ_MAP1(T, std::tgamma(a)) return;
      case SOp::atan2: RJ_MAP2(T, T, std::atan2(a, b)) return;
      case SOp::pow: RJ_MAP2(T, T, std::pow(a, b)) return;
      default: fail("internal", std::string("interpreter: no code for basis op ") + sop_name(in.op));
    }
  });
}
#undef RJ_MAP1
#undef RJ_MAP2

void exec_special(const Instr& in, void* const* p, void* po, int m) {
  with_float(in.dt, [&](auto z) {
    using T = decltype(z);
    T* y = static_cast<T*>(po);
    const T* a = static_cast<const T*>(p[0]);
    if (in.n == 1) {
      auto f = reinterpret_cast<double (*)(double)>(in.sf->fn);
      for (int j = 0; j < m; ++j) y[j] = (T)f((double)a[j]);
    } else if (in.n == 2) {
      auto f = reinterpret_cast<double (*)(double, double)>(in.sf->fn);
      const T* b = static_cast<const T*>(p[1]);
      for (int j = 0; j < m; ++j) y[j] = (T)f((double)a[j], (double)b[j]);
    } else {
      auto f = reinterpret_cast<double (*)(double, double, double)>(in.sf->fn);
      const T* b = static_cast<const T*>(p[1]);
      const T* c = static_cast<const T*>(p[2]);
      for (int j = 0; j < m; ++j) y[j] = (T)f((double)a[j], (double)b[j], (double)c[j]);
    }
  });
}

void fill(void* dst, DType d, const void* src_elem, int64_t count) {
  size_t es = dtype_size(d);
  char* q = static_cast<char*>(dst);
  for (int64_t j = 0; j < count; ++j) std::memcpy(q + j * es, src_elem, es);
}

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_map<std::string, TapePtr>& cache() {
  static auto* c = new std::unordered_map<std::string, TapePtr>;  // never destroyed (used at exit)
  return *c;
}

}  // namespace

TapePtr tape_for(const std::string& key, const std::vector<DType>& in,
                 const std::function<SVal(ScalarBuilder&, const std::vector<SVal>&)>& build) {
  std::string k = key + "|";
  for (DType d : in) k += (char)('0' + (int)d);
  {
    std::lock_guard<std::mutex> lk(cache_mutex());
    auto it = cache().find(k);
    if (it != cache().end()) return it->second;
  }
  auto t = std::make_shared<Tape>();
  t->in_dtypes = in;
  Recorder r(*t);
  std::vector<SVal> args;
  for (size_t i = 0; i < in.size(); ++i) {
    Instr ii;
    ii.kind = Instr::k_input;
    ii.dt = in[i];
    ii.input = (int)i;
    ii.out = r.new_val(in[i]);
    t->code.push_back(ii);
    t->input_val.push_back(ii.out);
    args.push_back(SVal{ii.out, in[i]});
  }
  SVal res = build(r, args);
  t->result = res.id;
  for (const Instr& i : t->code)
    if ((i.kind == Instr::k_op || i.kind == Instr::k_special) && i.out == res.id) t->result_computed = true;
  allocate(*t);
  std::lock_guard<std::mutex> lk(cache_mutex());
  return cache().emplace(k, t).first->second;
}

void tape_run(const Tape& t, const void* const* in, const char* scalar, void* out, int64_t n, uint32_t* flags) {
  if (n <= 0) return;
  thread_local std::vector<double> scratch;
  thread_local std::vector<void*> ptr;
  scratch.resize((size_t)std::max(t.n_slots, 1) * kTapeBlock);
  ptr.assign(t.val_dtype.size(), nullptr);
  auto slot_ptr = [&](int s) { return static_cast<void*>(scratch.data() + (size_t)s * kTapeBlock); };
  for (size_t v = 0; v < t.val_dtype.size(); ++v)
    if (t.slot[v] >= 0) ptr[v] = slot_ptr(t.slot[v]);
  // Constants and broadcast inputs, once (as many elements as a block uses).
  const int64_t count = std::min<int64_t>(n, kTapeBlock);
  for (const Instr& i : t.code)
    if (i.kind == Instr::k_const)
      dispatch(i.dt, [&](auto z) {
        using T = decltype(z);
        T v = const_as<T>(i.cval);
        fill(ptr[i.out], i.dt, &v, count);
      });
  const DType rd = t.val_dtype[t.result];
  const size_t res_size = dtype_size(rd);
  bool copy = !t.result_computed;
  for (size_t k = 0; k < t.input_val.size(); ++k) {
    if (scalar[k]) {
      void* s = slot_ptr(t.input_slot[k]);
      fill(s, t.in_dtypes[k], in[k], count);
      ptr[t.input_val[k]] = s;
    } else if (in[k] == out) {
      copy = true;  // in place: every read of a block happens before its copy-out
    }
  }
  uint32_t warn = 0;
  void* p[3];
  for (int64_t b0 = 0; b0 < n; b0 += kTapeBlock) {
    const int m = (int)std::min<int64_t>(kTapeBlock, n - b0);
    for (size_t k = 0; k < t.input_val.size(); ++k)
      if (!scalar[k])
        ptr[t.input_val[k]] = const_cast<char*>(static_cast<const char*>(in[k])) + b0 * dtype_size(t.in_dtypes[k]);
    char* out_block = static_cast<char*>(out) + b0 * res_size;
    if (!copy) ptr[t.result] = out_block;
    for (const Instr& i : t.code) {
      switch (i.kind) {
        case Instr::k_op:
        case Instr::k_special:
          for (int j = 0; j < i.n; ++j) p[j] = ptr[i.a[j]];
          if (i.kind == Instr::k_op) exec_op(i, p, ptr[i.out], m);
          else exec_special(i, p, ptr[i.out], m);
          break;
        case Instr::k_warn: {
          const uint8_t* c = static_cast<const uint8_t*>(ptr[i.a[0]]);
          uint8_t any = 0;
          for (int j = 0; j < m; ++j) any |= c[j];
          if (any) warn |= i.code;
          break;
        }
        default: break;
      }
    }
    if (copy) std::memcpy(out_block, ptr[t.result], (size_t)m * res_size);
  }
  *flags |= warn;
}

void tape_run_parallel(const Tape& t, const void* const* in, const char* scalar, void* out, int64_t n) {
  const int64_t chunk = 1 << 14;
  size_t ni = t.input_val.size();
  const size_t res_size = dtype_size(t.val_dtype[t.result]);
  std::vector<uint32_t> flags((size_t)((n + chunk - 1) / chunk), 0);
  parallel_for(n, chunk, [&](int64_t lo, int64_t hi) {
    const void* ins[8];
    std::vector<const void*> big;
    const void** ip = ni <= 8 ? ins : (big.resize(ni), big.data());
    for (size_t k = 0; k < ni; ++k)
      ip[k] = scalar[k] ? in[k] : static_cast<const char*>(in[k]) + lo * dtype_size(t.in_dtypes[k]);
    tape_run(t, ip, scalar, static_cast<char*>(out) + lo * res_size, hi - lo, &flags[lo / chunk]);
  }, 1 << 16);
  uint32_t all = 0;
  for (uint32_t f : flags) all |= f;
  raise_warning(all);
}

// ---- monoids -----------------------------------------------------------------------

static std::string monoid_key(const Monoid& m, const char* role) {
  std::string k = "monoid:";
  k += m.name;
  k += ':';
  k += role;
  return k;
}

TapePtr monoid_step_tape(const Monoid& m, DType in) {
  return tape_for(monoid_key(m, "step"), {DType::f64, in}, [&](ScalarBuilder& s, const std::vector<SVal>& a) {
    return m.combine(s, a[0], m.lift(s, a[1], in), in);
  });
}

TapePtr monoid_merge_tape(const Monoid& m, DType in) {
  std::string k = monoid_key(m, "merge") + (char)('0' + (int)in);
  return tape_for(k, {DType::f64, DType::f64}, [&](ScalarBuilder& s, const std::vector<SVal>& a) {
    return m.combine(s, a[0], a[1], in);
  });
}

TapePtr monoid_finish_tape(const Monoid& m, DType in, DType out) {
  std::string k = monoid_key(m, "finish") + (char)('0' + (int)in) + (char)('0' + (int)out);
  return tape_for(k, {DType::f64}, [&](ScalarBuilder& s, const std::vector<SVal>& a) {
    return m.finish(s, a[0], in, out);
  });
}

static double merge_lanes(const Tape& t, double* lanes, int64_t n) {
  const char sc[2] = {0, 0};
  uint32_t flags = 0;
  for (int64_t h = n / 2; h >= 1; h /= 2) {
    const void* ins[2] = {lanes, lanes + h};
    tape_run(t, ins, sc, lanes, h, &flags);
  }
  raise_warning(flags);
  return lanes[0];
}

double monoid_merge_lanes(const Monoid& m, DType in, double* lanes, int64_t n) {
  return merge_lanes(*monoid_merge_tape(m, in), lanes, n);
}

double tape_merge(const Tape& merge, double identity, const double* parts, int64_t n) {
  if (n <= 0) return identity;
  if (n == 1) return parts[0];
  int64_t p2 = 1;
  while (p2 < n) p2 *= 2;
  double small[64];
  std::vector<double> big;
  double* lanes = p2 <= 64 ? small : (big.resize((size_t)p2), big.data());
  std::fill(lanes, lanes + p2, identity);
  std::memcpy(lanes, parts, (size_t)n * sizeof(double));
  return merge_lanes(merge, lanes, p2);
}

double monoid_merge(const Monoid& m, DType in, const double* parts, int64_t n) {
  return tape_merge(*monoid_merge_tape(m, in), m.identity(in), parts, n);
}

void tape_finish(const Tape& fin, const double* acc, int64_t n, void* dst) {
  const void* ins[1] = {acc};
  const char sc[1] = {0};
  uint32_t flags = 0;
  tape_run(fin, ins, sc, dst, n, &flags);
  raise_warning(flags);
}

void monoid_finish(const Monoid& m, DType in, DType out, const double* acc, int64_t n, void* dst) {
  tape_finish(*monoid_finish_tape(m, in, out), acc, n, dst);
}

// ---- element-wise primitives on buffers --------------------------------------------

static void eval_scalar_prim(const PrimDef& p, const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  std::vector<DType> dts;
  for (auto* b : in) dts.push_back(b->dtype);
  std::string key = "prim:" + p.name + ":" + a.key();
  TapePtr t = tape_for(key, dts, [&](ScalarBuilder& s, const std::vector<SVal>& args) { return p.scalar(s, args, a); });
  if (tape_result_dtype(*t) != out.dtype)
    fail("internal", p.name + ": scalar description gives " + dtype_name(tape_result_dtype(*t)) + ", type rule " +
                         dtype_name(out.dtype));
  const int64_t n = out.size();
  std::vector<const void*> ptrs;
  std::vector<char> sc;
  for (auto* b : in) {
    ptrs.push_back(b->data);
    sc.push_back(b->size() == 1 && n != 1);
  }
  tape_run_parallel(*t, ptrs.data(), sc.data(), out.data, n);
}

void eval_prim(const PrimDef& p, const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  if (p.scalar) return eval_scalar_prim(p, in, out, a);
  if (!p.eval) fail("internal", "primitive '" + p.name + "' has no kernel" + (p.no_eval ? std::string(": ") + p.no_eval : ""));
  p.eval(in, out, a);
}

}  // namespace rj
