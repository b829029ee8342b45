// Shape primitives: reshape, broadcast, transpose, gather, scatter, concat.
// R indexing (`[`, `[<-`, diag) is expressed with gather/scatter over
// per-dimension index sets, so one pair of primitives serves all of it.
#include <cstring>
#include <numeric>

#include "prim_util.h"

namespace rj {
namespace {

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t k = 1;
  for (size_t i = 0; i < s.size(); ++i) { st[i] = k; k *= s[i]; }
  return st;
}

// ---- reshape ----------------------------------------------------------------------

Type infer_reshape(const std::vector<Type>& in, const Attrs& a) {
  if (shape_size(a.shape) != in[0].size())
    fail("shape", "cannot reshape an array of shape [" + shape_str(in[0].shape) + "] (" + std::to_string(in[0].size()) +
                      " elements) to [" + shape_str(a.shape) + "]");
  return Type{in[0].dtype, a.shape};
}
void k_copy(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  if (out.nbytes()) std::memcpy(out.data, in[0]->data, out.nbytes());
}
std::vector<int> vjp_reshape(Builder& b, const Node& n, int, int g) { return {b.reshape(g, b.type(n.in[0]).shape)}; }

// ---- broadcast: rank-0 to any shape, or size-1 axes stretched ---------------------

Type infer_broadcast(const std::vector<Type>& in, const Attrs& a) {
  const Shape& s = in[0].shape;
  bool ok = s.empty() || s.size() == a.shape.size();
  for (size_t i = 0; ok && !s.empty() && i < s.size(); ++i) ok = s[i] == a.shape[i] || s[i] == 1;
  if (!ok) fail("shape", "cannot broadcast shape [" + shape_str(s) + "] to [" + shape_str(a.shape) + "]");
  return Type{in[0].dtype, a.shape};
}
void k_broadcast(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  const Buffer& x = *in[0];
  size_t es = dtype_size(out.dtype);
  int64_t n = out.size();
  const char* xp = static_cast<const char*>(x.data);
  char* yp = static_cast<char*>(out.data);
  if (x.size() == 1) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(yp + i * es, xp, es);
    return;
  }
  const Shape& s = out.shape;
  std::vector<int64_t> xst = strides_of(x.shape);
  for (size_t d = 0; d < s.size(); ++d)
    if (x.shape[d] == 1) xst[d] = 0;
  std::vector<int64_t> idx(s.size(), 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(yp + i * es, xp + o * es, es);
    for (size_t d = 0; d < s.size(); ++d) {
      if (++idx[d] < s[d]) { o += xst[d]; break; }
      o -= xst[d] * (s[d] - 1);
      idx[d] = 0;
    }
  }
}
std::vector<int> vjp_broadcast(Builder& b, const Node& n, int, int g) {
  if (!is_float(b.type(g).dtype)) return {-1};
  return {b.sum_to_shape(g, b.type(n.in[0]).shape)};
}

// ---- transpose (permutation of axes: out dim i = in dim perm[i]) -----------------

Type infer_transpose(const std::vector<Type>& in, const Attrs& a) {
  const Shape& s = in[0].shape;
  if (a.ints.size() != s.size()) fail("shape", "transpose: permutation does not match rank " + std::to_string(s.size()));
  Shape out(s.size());
  std::vector<char> seen(s.size(), 0);
  for (size_t i = 0; i < s.size(); ++i) {
    int64_t p = a.ints[i];
    if (p < 0 || p >= (int64_t)s.size() || seen[p]) fail("shape", "transpose: invalid permutation");
    seen[p] = 1;
    out[i] = s[p];
  }
  return Type{in[0].dtype, out};
}
void k_transpose(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  const Buffer& x = *in[0];
  size_t es = dtype_size(x.dtype);
  std::vector<int64_t> xst = strides_of(x.shape), pst(a.ints.size());
  for (size_t i = 0; i < a.ints.size(); ++i) pst[i] = xst[a.ints[i]];
  const Shape& s = out.shape;
  const char* xp = static_cast<const char*>(x.data);
  char* yp = static_cast<char*>(out.data);
  if (s.size() == 2) {  // blocked matrix transpose
    int64_t r = s[0], c = s[1];
    dispatch(x.dtype, [&](auto z) {
      using T = decltype(z);
      const T* xs = x.as<T>();
      T* ys = out.as<T>();
      for (int64_t jb = 0; jb < c; jb += 32)
        for (int64_t ib = 0; ib < r; ib += 32)
          for (int64_t j = jb; j < std::min(c, jb + 32); ++j)
            for (int64_t i = ib; i < std::min(r, ib + 32); ++i) ys[i + j * r] = xs[i * pst[0] + j * pst[1]];
    });
    return;
  }
  std::vector<int64_t> idx(s.size(), 0);
  int64_t o = 0, n = out.size();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(yp + i * es, xp + o * es, es);
    for (size_t d = 0; d < s.size(); ++d) {
      if (++idx[d] < s[d]) { o += pst[d]; break; }
      o -= pst[d] * (s[d] - 1);
      idx[d] = 0;
    }
  }
}
std::vector<int> vjp_transpose(Builder& b, const Node& n, int, int g) {
  std::vector<int64_t> inv(n.attrs.ints.size());
  for (size_t i = 0; i < inv.size(); ++i) inv[n.attrs.ints[i]] = (int64_t)i;
  return {b.transpose(g, inv)};
}

// ---- gather / scatter over per-dimension index sets (0-based) --------------------

Shape index_shape(const Attrs& a) {
  Shape s;
  for (auto& l : a.lists) s.push_back((int64_t)l.size());
  return s;
}
void check_index(const Shape& s, const Attrs& a, const char* op) {
  if (a.lists.size() != s.size())
    fail("shape", std::string(op) + ": " + std::to_string(a.lists.size()) + " index sets for an array of rank " +
                      std::to_string(s.size()));
  for (size_t d = 0; d < s.size(); ++d)
    for (auto i : a.lists[d])
      if (i < 0 || i >= s[d])
        fail("index", std::string(op) + ": subscript out of bounds (index " + std::to_string(i + 1) + " in dimension " +
                          std::to_string(d + 1) + " of extent " + std::to_string(s[d]) + ")");
}

// Calls f(out_linear, in_offset) for every element selected by the index sets.
template <class F>
void for_each_index(const Shape& in_shape, const Attrs& a, F f) {
  size_t r = in_shape.size();
  std::vector<int64_t> st = strides_of(in_shape);
  Shape os = index_shape(a);
  int64_t n = shape_size(os);
  if (n == 0) return;
  if (r == 0) { f(0, 0); return; }
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (size_t d = 0; d < r; ++d) off += a.lists[d][0] * st[d];
  for (int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (size_t d = 0; d < r; ++d) {
      off -= a.lists[d][idx[d]] * st[d];
      if (++idx[d] < os[d]) { off += a.lists[d][idx[d]] * st[d]; break; }
      idx[d] = 0;
      off += a.lists[d][0] * st[d];
    }
  }
}

Type infer_gather(const std::vector<Type>& in, const Attrs& a) {
  check_index(in[0].shape, a, "[");
  return Type{in[0].dtype, index_shape(a)};
}
void k_gather(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  const Buffer& x = *in[0];
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    const T* xp = x.as<T>();
    T* yp = out.as<T>();
    for_each_index(x.shape, a, [&](int64_t i, int64_t off) { yp[i] = xp[off]; });
  });
}

// scatter(x, v): x with the indexed elements set to v (ints = {0}) or
// incremented by v (ints = {1}); v has the index sets' shape or is rank 0.
Type infer_scatter(const std::vector<Type>& in, const Attrs& a) {
  check_index(in[0].shape, a, "[<-");
  if (in[0].dtype != in[1].dtype)
    fail("dtype", std::string("[<-: cannot assign ") + dtype_name(in[1].dtype) + " values into a " + dtype_name(in[0].dtype) + " array");
  Shape is = index_shape(a);
  if (!in[1].shape.empty() && in[1].shape != is)
    fail("shape", "[<-: replacement has shape [" + shape_str(in[1].shape) + "] but the selection has shape [" + shape_str(is) + "]");
  return Type{in[0].dtype, in[0].shape};
}
void k_scatter(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  const Buffer& x = *in[0];
  const Buffer& v = *in[1];
  if (out.nbytes()) std::memcpy(out.data, x.data, out.nbytes());
  bool add = !a.ints.empty() && a.ints[0] == 1;
  bool scalar = v.shape.empty();
  dispatch(x.dtype, [&](auto z) {
    using T = decltype(z);
    const T* vp = v.as<T>();
    T* yp = out.as<T>();
    for_each_index(x.shape, a, [&](int64_t i, int64_t off) {
      T val = vp[scalar ? 0 : i];
      yp[off] = add ? (T)(yp[off] + val) : val;
    });
  });
}

std::vector<int> vjp_gather(Builder& b, const Node& n, int, int g) {
  Attrs at = n.attrs;
  at.ints = {1};
  return {b.emit("scatter", {b.zeros_like(n.in[0]), g}, at)};
}
std::vector<int> vjp_scatter(Builder& b, const Node& n, int, int g) {
  bool add = !n.attrs.ints.empty() && n.attrs.ints[0] == 1;
  Attrs ga = n.attrs;
  ga.ints.clear();
  int dv = b.emit("gather", {g}, ga);
  if (b.type(n.in[1]).shape.empty()) dv = b.sum_to_shape(dv, {});
  int dx = g;
  if (!add) {
    Attrs sa = n.attrs;
    sa.ints = {0};
    dx = b.emit("scatter", {g, b.scalar(0, b.type(g).dtype)}, sa);
  }
  return {dx, dv};
}

std::string print_index(const Attrs& a) {
  std::string s;
  for (size_t d = 0; d < a.lists.size(); ++d) {
    const auto& l = a.lists[d];
    s += d ? "," : "";
    bool range = !l.empty();
    for (size_t i = 1; range && i < l.size(); ++i) range = l[i] == l[i - 1] + 1;
    if (range && l.size() > 1) s += std::to_string(l.front() + 1) + ":" + std::to_string(l.back() + 1);
    else if (l.size() <= 4) {
      s += "c(";
      for (size_t i = 0; i < l.size(); ++i) s += (i ? "," : "") + std::to_string(l[i] + 1);
      s += ")";
    } else s += "<" + std::to_string(l.size()) + " indices>";
  }
  std::string r = "idx=[" + s + "]";
  if (!a.ints.empty() && a.ints[0] == 1) r += " mode=add";
  return r;
}

// ---- concat along an axis (ints = {axis}) ----------------------------------------

Type infer_concat(const std::vector<Type>& in, const Attrs& a) {
  if (in.empty()) fail("shape", "concat of nothing");
  int64_t ax = a.ints.at(0);
  Shape out = in[0].shape;
  if (ax < 0 || ax >= (int64_t)out.size()) fail("shape", "concat: axis out of range");
  out[ax] = 0;
  for (auto& t : in) {
    if (t.dtype != in[0].dtype) fail("dtype", "cbind/rbind: operands have different dtypes");
    bool ok = t.shape.size() == out.size();
    for (size_t d = 0; ok && d < out.size(); ++d) ok = (int64_t)d == ax || t.shape[d] == out[d];
    if (!ok) fail("shape", std::string(ax == 1 ? "cbind" : "rbind") + ": number of " + (ax == 1 ? "rows" : "columns") +
                               " of matrices must match ([" + shape_str(in[0].shape) + "] and [" + shape_str(t.shape) + "])");
    out[ax] += t.shape[ax];
  }
  return Type{in[0].dtype, out};
}
void k_concat(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  int64_t ax = a.ints[0];
  size_t es = dtype_size(out.dtype);
  int64_t inner = 1, outer = 1;
  for (int64_t d = 0; d < ax; ++d) inner *= out.shape[d];
  for (size_t d = ax + 1; d < out.shape.size(); ++d) outer *= out.shape[d];
  char* yp = static_cast<char*>(out.data);
  int64_t out_block = inner * out.shape[ax];
  int64_t pos = 0;
  for (auto* x : in) {
    int64_t blk = inner * x->shape[ax];
    const char* xp = static_cast<const char*>(x->data);
    for (int64_t o = 0; o < outer; ++o)
      if (blk) std::memcpy(yp + (o * out_block + pos) * es, xp + o * blk * es, blk * es);
    pos += blk;
  }
}
std::vector<int> vjp_concat(Builder& b, const Node& n, int, int g) {
  std::vector<int> out;
  int64_t ax = n.attrs.ints[0], start = 0;
  const Shape gs = b.type(g).shape;  // copies: emit() may grow the node vector
  for (int v : n.in) {
    const Shape s = b.type(v).shape;
    Attrs at;
    for (size_t d = 0; d < gs.size(); ++d) {
      std::vector<int64_t> l((size_t)s[d]);
      std::iota(l.begin(), l.end(), (int64_t)d == ax ? start : 0);
      at.lists.push_back(std::move(l));
    }
    start += s[ax];
    out.push_back(b.emit("gather", {g}, at));
  }
  return out;
}

std::string print_shape(const Attrs& a) { return "shape=(" + shape_str(a.shape) + ")"; }
std::string print_perm(const Attrs& a) { return ints_attr("perm", a.ints); }
std::string print_axis(const Attrs& a) { return "axis=" + std::to_string(a.ints.at(0)); }


// ---- batching rules: the batch axis moved last, where column-major slices
// are contiguous (reshape of [s..., B] to [s'..., B] keeps every slice) ------

int64_t bsize(Builder& b, const std::vector<int>& v, const std::vector<int>& ax) { return batch_size(b, v, ax); }

int batch_reshape(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                  const std::vector<int>& ax, int* oax) {
  int x = batch_last(b, v[0], ax[0], bsize(b, v, ax));
  Shape s = n.attrs.shape;
  s.push_back(b.type(x).shape.back());
  *oax = (int)s.size() - 1;
  return b.reshape(x, s);
}
int batch_broadcast(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                    const std::vector<int>& ax, int* oax) {
  const int64_t B = bsize(b, v, ax);
  int x = batch_last(b, v[0], ax[0], B);
  Shape s = n.attrs.shape;
  if (ts[0].rank() == 0) {  // a batched scalar [B]: ones, then the batch axis
    Shape ones(s.size(), 1);
    ones.push_back(B);
    x = b.reshape(x, ones);
  }
  s.push_back(B);
  *oax = (int)s.size() - 1;
  return b.broadcast_to(x, s);
}
int batch_transpose(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                    const std::vector<int>& ax, int* oax) {
  int x = batch_last(b, v[0], ax[0], bsize(b, v, ax));
  std::vector<int64_t> perm = n.attrs.ints;
  perm.push_back((int64_t)perm.size());
  *oax = (int)perm.size() - 1;
  return b.transpose(x, perm);
}
// The index sets of gather/scatter with the whole batch axis appended.
Attrs with_batch_index(Attrs a, int64_t B) {
  std::vector<int64_t> all((size_t)B);
  std::iota(all.begin(), all.end(), 0);
  a.lists.push_back(std::move(all));
  return a;
}
int batch_gather(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                 const std::vector<int>& ax, int* oax) {
  const int64_t B = bsize(b, v, ax);
  int x = batch_last(b, v[0], ax[0], B);
  *oax = (int)n.attrs.lists.size();
  return b.emit("gather", {x}, with_batch_index(n.attrs, B));
}
int batch_scatter(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                  const std::vector<int>& ax, int* oax) {
  const int64_t B = bsize(b, v, ax);
  int x = batch_last(b, v[0], ax[0], B);
  int val = v[1];
  if (ax[1] >= 0 || ts[1].rank() > 0) {
    val = batch_last(b, val, ax[1], B);
    Shape is = index_shape(n.attrs);
    if (ts[1].rank() == 0) {  // a batched scalar replacement: [B] -> the selection's shape + [B]
      Shape ones(is.size(), 1);
      ones.push_back(B);
      val = b.reshape(val, ones);
    }
    is.push_back(B);
    val = b.broadcast_to(val, is);
  }
  *oax = ts[0].rank();
  return b.emit("scatter", {x, val}, with_batch_index(n.attrs, B));
}
int batch_concat(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                 const std::vector<int>& ax, int* oax) {
  const int64_t B = bsize(b, v, ax);
  std::vector<int> in;
  for (size_t k = 0; k < v.size(); ++k) in.push_back(batch_last(b, v[k], ax[k], B));
  *oax = n.type.rank();
  return b.emit("concat", in, n.attrs);
}

PrimDef def(const char* name, const char* r_name, int arity, InferFn infer, EvalFn eval, VjpFn vjp,
            std::string (*pa)(const Attrs&), BatchFn batch) {
  PrimDef d = make_prim(name, arity, infer, eval, vjp, pa);
  d.r_name = r_name;
  d.jvp = jvp_linear;  // every shape primitive is linear in its inputs
  d.batch = batch;
  return d;
}

PrimRegistration regs[] = {
    PrimRegistration(def("reshape", "dim<-", 1, infer_reshape, k_copy, vjp_reshape, print_shape, batch_reshape)),
    PrimRegistration(def("broadcast", nullptr /* R's recycling and rep() */, 1, infer_broadcast, k_broadcast, vjp_broadcast, print_shape, batch_broadcast)),
    PrimRegistration(def("transpose", "aperm", 1, infer_transpose, k_transpose, vjp_transpose, print_perm, batch_transpose)),
    PrimRegistration(def("gather", "[", 1, infer_gather, k_gather, vjp_gather, print_index, batch_gather)),
    PrimRegistration(def("scatter", "[<-", 2, infer_scatter, k_scatter, vjp_scatter, print_index, batch_scatter)),
    PrimRegistration(def("concat", "cbind", -1, infer_concat, k_concat, vjp_concat, print_axis, batch_concat)),
};

}  // namespace
}  // namespace rj
