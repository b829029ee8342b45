// Collectives over the one named axis of a distributed program: the ranks
// of the MPI job (src/runtime/mpi.h). R reaches them through shard_map()
// and rj_psum(), rj_pmean(), rj_pmax_axis(), rj_pmin_axis(),
// rj_all_gather(), rj_axis_index() (R/distributed.R).
//
// Semantics. Inside shard_map every value is per rank ("varying"); a
// collective maps the K ranks' values to one result on every rank. The
// derivative rules are the exact transposes of these linear maps over all
// ranks' values (JAX's pmap convention):
//   psum        y = sum_r x_r on every rank      VJP psum(ct)      JVP psum(t)
//   pmax/pmin   y = max_r x_r (R's NA rules)     VJP ct*[x==y]/psum([x==y])
//   all_gather  y = x_0, ..., x_{K-1} stacked     VJP block r of psum(ct)
//               along dimension `dim`                (a reduce-scatter)
//   axis_index  y = r (i32)                      no derivative
// and three boundary primitives of shard_map map between the global view
// outside (every rank computes the same value) and the per-rank view
// inside, so that grad() outside shard_map is the gradient of the global
// function, at any order (each one's VJP is another of them):
//   shard_replicated_in   global -> per rank: identity; VJP shard_sum_out(ct)
//                         (a replicated argument's cotangent is the sum of
//                         the ranks' contributions)
//   shard_sum_out         per rank -> global: psum; VJP shard_replicated_in(ct)
//   shard_replicated_out  per rank -> global for a value that is the same on
//                         every rank (the mean of K equal copies): identity;
//                         VJP shard_replicated_in(ct) / K
// (Inside shard_map, grad() of a psum-ed value differentiates the sum over
// ranks, i.e. gives K times the rank's share; see ?shard_map.)
//
// Attributes: ints[0] = K, the axis size the program was traced for (the
// type rule of all_gather needs it; running on another number of ranks is
// an error); all_gather: ints[1] = dim (0-based), ints[2] = this rank
// (its VJP slices the rank's block).
//
// Evaluation calls the runtime (no copies: MPI reads the input buffer and
// writes the output buffer), so every backend runs these as library calls
// (never fused, never folded at build time: communication happens when
// the program runs, on every rank alike). In one process (K = 1) they are
// the identity, axis_index is 0.
#include <cstring>
#include <vector>

#include "../runtime/mpi.h"
#include "prim_util.h"

namespace rj {
namespace {

int64_t axis_size(const Attrs& a) { return a.ints.empty() ? 1 : a.ints[0]; }

// What every rank's call must share: the collective and its attributes,
// except all_gather's rank (ints[2]), which differs by construction.
uint64_t signature(const char* name, const Attrs& a) {
  uint64_t h = std::hash<std::string>()(name);
  for (size_t i = 0; i < a.ints.size() && i < 2; ++i) h ^= (uint64_t)a.ints[i] + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

void check_world(const Attrs& a, const char* op) {
  const int k = mpi::size();
  if (axis_size(a) != k)
    fail("distributed", std::string(op) + ": this program was traced for " + std::to_string(axis_size(a)) +
                            " ranks but runs on " + std::to_string(k) + "; trace it again in this job");
}

std::string print_k(const Attrs& a) { return "ranks=" + std::to_string(axis_size(a)); }
std::string print_gather(const Attrs& a) {
  return "ranks=" + std::to_string(axis_size(a)) + " dim=" + std::to_string(a.ints.size() > 1 ? a.ints[1] : 0);
}

// ---- type rules ------------------------------------------------------------------

Type infer_psum(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 1, "rj_psum");
  if (!is_float(in[0].dtype))
    fail("dtype", std::string("rj_psum needs floating-point values (f32 or f64), got ") + dtype_name(in[0].dtype) +
                      "; convert with as_dtype(x, \"f64\")");
  return Type{in[0].dtype, in[0].shape};
}

Type infer_extreme(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 1, "rj_pmax_axis");
  if (in[0].dtype == DType::b8)
    fail("dtype", "rj_pmax_axis/rj_pmin_axis need numbers, got bool; convert with as_dtype(x, \"i32\")");
  return Type{in[0].dtype, in[0].shape};
}

Type infer_same(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 1, "shard_map");
  return Type{in[0].dtype, in[0].shape};
}

Type infer_gather(const std::vector<Type>& in, const Attrs& a) {
  check_arity(in, 1, "rj_all_gather");
  const int64_t k = axis_size(a), dim = a.ints.size() > 1 ? a.ints[1] : 0;
  Shape s = in[0].shape;
  if (s.empty() && dim == 0) return Type{in[0].dtype, {k}};
  if (dim < 0 || dim >= (int64_t)s.size())
    fail("shape", "rj_all_gather: dimension " + std::to_string(dim + 1) + " does not exist in an array of shape [" +
                      shape_str(s) + "]");
  s[dim] *= k;
  return Type{in[0].dtype, s};
}

Type infer_index(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 0, "rj_axis_index");
  return Type{DType::i32, {}};
}

// ---- kernels ---------------------------------------------------------------------

void k_psum(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  check_world(a, "rj_psum");
  mpi::allreduce(in[0]->data, out.data, out.size(), out.dtype, mpi::Op::sum, signature("psum", a));
}
void k_sum_out(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  check_world(a, "shard_map");
  mpi::allreduce(in[0]->data, out.data, out.size(), out.dtype, mpi::Op::sum, signature("psum", a));
}

// All ranks' values, then the reduction in rank order with R's NA rules
// (NA wins over NaN, NaN over numbers), which MPI's MPI_MAX does not know.
template <bool Max>
void k_extreme(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  check_world(a, Max ? "rj_pmax_axis" : "rj_pmin_axis");
  const int64_t n = out.size(), k = axis_size(a);
  std::vector<char> all((size_t)(n * k) * dtype_size(out.dtype) + 1);
  mpi::allgather(in[0]->data, all.data(), n, out.dtype, signature(Max ? "pmax" : "pmin", a));
  dispatch(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T* p = reinterpret_cast<const T*>(all.data());
    T* y = out.as<T>();
    for (int64_t i = 0; i < n; ++i) {
      T acc = p[i];
      for (int64_t r = 1; r < k; ++r) {
        const T v = p[r * n + i];
        if constexpr (std::is_floating_point<T>::value) {
          if (acc != acc) {
            if (is_na_real((double)v) && !is_na_real((double)acc)) acc = v;
            continue;
          }
          if (v != v) { acc = v; continue; }
        } else if constexpr (std::is_same<T, int32_t>::value) {
          if (acc == kNAInt) continue;
          if (v == kNAInt) { acc = v; continue; }
        }
        if (Max ? v > acc : v < acc) acc = v;
      }
      y[i] = acc;
    }
  });
}

void k_gather(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  check_world(a, "rj_all_gather");
  const Buffer& x = *in[0];
  const int64_t k = axis_size(a), dim = a.ints.size() > 1 ? a.ints[1] : 0, n = x.size();
  const size_t esz = dtype_size(x.dtype);
  // Elements before `dim` (fastest) times its extent form one contiguous
  // run per index of the later dimensions.
  int64_t run = 1, outer = 1;
  for (int64_t d = 0; d < (int64_t)x.shape.size(); ++d) {
    if (d <= dim) run *= x.shape[d];
    else outer *= x.shape[d];
  }
  if (outer == 1) {  // gathering along the last dimension: MPI writes the result in place
    mpi::allgather(x.data, out.data, n, x.dtype, signature("all_gather", a));
    return;
  }
  std::vector<char> all((size_t)(n * k) * esz + 1);
  mpi::allgather(x.data, all.data(), n, x.dtype, signature("all_gather", a));
  char* y = static_cast<char*>(out.data);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(y + ((o * k + r) * run) * esz, all.data() + (r * n + o * run) * esz, (size_t)run * esz);
}

void k_index(const std::vector<const Buffer*>&, Buffer& out, const Attrs& a) {
  check_world(a, "rj_axis_index");
  *out.as<int32_t>() = mpi::rank();
}

void k_identity(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  if (out.nbytes()) std::memcpy(out.data, in[0]->data, out.nbytes());
}

// ---- derivative rules (in IR, so that they differentiate again) -------------------

int emit_like(Builder& b, const char* name, int v, const Attrs& a) { return b.emit(name, {v}, a); }

std::vector<int> vjp_psum(Builder& b, const Node& n, int, int ct) { return {emit_like(b, "psum", ct, n.attrs)}; }
int jvp_linear(Builder& b, const Node& n, int, const std::vector<int>& t) {
  if (t[0] < 0) return -1;
  return b.emit(n.prim, {t[0]}, n.attrs);
}

// Where this rank holds the extreme, shared evenly among the ranks that tie.
int extreme_weight(Builder& b, const Node& n, int out) {
  const int x = n.in[0];
  const DType d = b.type(x).dtype;
  Attrs k;
  k.ints = {axis_size(n.attrs)};
  const int mask = b.convert(b.emit("eq", {x, out}), d);
  return b.div(mask, b.emit("psum", {mask}, k));
}
std::vector<int> vjp_extreme(Builder& b, const Node& n, int out, int ct) {
  if (!is_float(b.type(n.in[0]).dtype)) return {-1};
  Attrs k;
  k.ints = {axis_size(n.attrs)};
  return {b.mul(extreme_weight(b, n, out), b.emit("psum", {ct}, k))};  // every rank's result depends on x_r
}
int jvp_extreme(Builder& b, const Node& n, int out, const std::vector<int>& t) {
  if (t[0] < 0 || !is_float(b.type(n.in[0]).dtype)) return -1;
  Attrs k;
  k.ints = {axis_size(n.attrs)};
  return b.emit("psum", {b.mul(extreme_weight(b, n, out), t[0])}, k);
}

// This rank's block of `v` along dim (the inverse of stacking K blocks).
int rank_block(Builder& b, int v, int64_t dim, int64_t k, int64_t rank) {
  const Shape s = b.type(v).shape;
  Attrs g;
  for (size_t d = 0; d < s.size(); ++d) {
    std::vector<int64_t> l;
    const int64_t len = (int64_t)d == dim ? s[d] / k : s[d], from = (int64_t)d == dim ? rank * len : 0;
    for (int64_t i = 0; i < len; ++i) l.push_back(from + i);
    g.lists.push_back(std::move(l));
  }
  return b.emit("gather", {v}, g);
}
std::vector<int> vjp_gather(Builder& b, const Node& n, int, int ct) {
  const Type xt = b.type(n.in[0]);
  const int64_t k = axis_size(n.attrs), dim = n.attrs.ints.at(1), rank = n.attrs.ints.at(2);
  Attrs ka;
  ka.ints = {k};
  const int summed = b.emit("psum", {ct}, ka);
  return {b.reshape(rank_block(b, summed, dim, k, rank), xt.shape)};
}

std::vector<int> vjp_rep_in(Builder& b, const Node& n, int, int ct) { return {emit_like(b, "shard_sum_out", ct, n.attrs)}; }
std::vector<int> vjp_sum_out(Builder& b, const Node& n, int, int ct) {
  return {emit_like(b, "shard_replicated_in", ct, n.attrs)};
}
std::vector<int> vjp_rep_out(Builder& b, const Node& n, int, int ct) {
  const int64_t k = axis_size(n.attrs);
  const int in = emit_like(b, "shard_replicated_in", ct, n.attrs);
  if (k == 1) return {in};
  return {b.div(in, b.scalar((double)k, b.type(ct).dtype))};
}

// ---- batching rules ----------------------------------------------------------------

// Per-element collectives commute with batching: the batched value is
// reduced over ranks as one larger array, its batch axis unchanged.
int batch_same_axis(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& in,
                    const std::vector<int>& axis, int* out_axis) {
  *out_axis = axis[0];
  return b.emit(n.prim, {in[0]}, n.attrs);
}

int batch_gather(Builder& b, const Node& n, const std::vector<Type>& types, const std::vector<int>& in,
                 const std::vector<int>& axis, int* out_axis) {
  int v = in[0];
  const int64_t ax = axis[0];
  Attrs a = n.attrs;
  int64_t dim = a.ints[1];
  if (types[0].rank() == 0) {  // [B] -> [B, 1]: the gathered scalars become a dimension of their own
    v = b.reshape(v, {b.type(v).shape[0], 1});
    dim = 1;
  } else if (ax <= dim) {
    dim += 1;
  }
  a.ints[1] = dim;
  *out_axis = (int)ax;
  return b.emit(n.prim, {v}, a);
}

// axis_index has no inputs, so vmap never batches it; the rule keeps the
// registry's contract (an unbatched result).
int batch_index(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>&, const std::vector<int>&,
                int* out_axis) {
  *out_axis = -1;
  return b.emit(n.prim, {}, n.attrs);
}

PrimDef collective(const char* name, const char* r_name, int arity, InferFn infer, EvalFn eval, VjpFn vjp, JvpFn jvp,
                   BatchFn batch, std::string (*pa)(const Attrs&) = print_k) {
  PrimDef d = make_prim(name, arity, infer, eval, vjp, pa);
  d.r_name = r_name;
  d.jvp = jvp;
  d.batch = batch;
  d.foldable = false;  // communication happens when the program runs, never while it is built
  return d;
}

PrimRegistration regs[] = {
    PrimRegistration(collective("psum", "rj_psum", 1, infer_psum, k_psum, vjp_psum, jvp_linear, batch_same_axis)),
    PrimRegistration(collective("pmax_axis", "rj_pmax_axis", 1, infer_extreme, k_extreme<true>, vjp_extreme,
                                jvp_extreme, batch_same_axis)),
    PrimRegistration(collective("pmin_axis", "rj_pmin_axis", 1, infer_extreme, k_extreme<false>, vjp_extreme,
                                jvp_extreme, batch_same_axis)),
    PrimRegistration(collective("all_gather", "rj_all_gather", 1, infer_gather, k_gather, vjp_gather, jvp_linear,
                                batch_gather, print_gather)),
    PrimRegistration([] {
      PrimDef d = collective("axis_index", "rj_axis_index", 0, infer_index, k_index, nullptr, jvp_zero, batch_index);
      d.nondiff = "integer-valued (the rank's position on the axis)";
      return d;
    }()),
    PrimRegistration(collective("shard_replicated_in", "shard_map", 1, infer_same, k_identity, vjp_rep_in, jvp_linear,
                                batch_same_axis)),
    PrimRegistration(collective("shard_sum_out", "shard_map", 1, infer_psum, k_sum_out, vjp_sum_out, jvp_linear,
                                batch_same_axis)),
    PrimRegistration(collective("shard_replicated_out", "shard_map", 1, infer_same, k_identity, vjp_rep_out,
                                jvp_linear, batch_same_axis)),
};

}  // namespace
}  // namespace rj
