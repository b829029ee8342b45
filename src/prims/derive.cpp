// The rules every element-wise primitive gets from its definition: reverse
// and forward derivatives from its partial derivatives (one rule, two
// transforms), and batching. See prim_util.h.
#include "prim_util.h"

namespace rj {

int times_partial(Builder& b, int v, int p) {
  if (b.is_const_value(p, 1) && b.type(v).shape.size() >= b.type(p).shape.size()) return v;
  if (b.is_const_value(p, -1) && b.type(v).shape.size() >= b.type(p).shape.size()) return b.neg(v);
  return b.mul(v, p);
}

std::vector<int> vjp_from_partials(Builder& b, const Node& n, int out, int ct) {
  const PrimDef& p = prim(n.prim);
  std::vector<int> res(n.in.size(), -1);
  if (!p.partials) return res;
  const std::vector<int> parts = p.partials(b, n, out);
  for (size_t k = 0; k < n.in.size(); ++k) {
    const DType dk = b.type(n.in[k]).dtype;
    if (k >= parts.size() || parts[k] < 0 || !is_float(dk)) continue;
    int c = times_partial(b, ct, parts[k]);
    c = b.convert(c, dk);
    if (b.type(c).shape != b.type(n.in[k]).shape) c = unbroadcast(b, c, n.in[k]);
    res[k] = c;
  }
  return res;
}

int jvp_from_partials(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents) {
  const PrimDef& p = prim(n.prim);
  bool any = false;
  for (int t : in_tangents) any = any || t >= 0;
  if (!any || !p.partials) return -1;
  const Type ot = b.type(out);
  const std::vector<int> parts = p.partials(b, n, out);
  int acc = -1;
  for (size_t k = 0; k < n.in.size() && k < in_tangents.size(); ++k) {
    if (in_tangents[k] < 0 || k >= parts.size() || parts[k] < 0) continue;
    int term = times_partial(b, b.convert(in_tangents[k], ot.dtype), parts[k]);
    acc = acc < 0 ? term : b.add(acc, term);
  }
  if (acc >= 0 && b.type(acc).shape != ot.shape) acc = b.broadcast_to(acc, ot.shape);
  return acc;
}

int jvp_zero(Builder&, const Node&, int, const std::vector<int>&) { return -1; }

namespace {
Shape with_axis(Shape s, int axis, int64_t extent) {
  s.insert(s.begin() + axis, extent);
  return s;
}
}  // namespace

int batch_elementwise(Builder& b, const Node& n, const std::vector<Type>& in_types, const std::vector<int>& new_inputs,
                      const std::vector<int>& in_batch_axis, int* out_batch_axis) {
  const int r = n.type.rank();
  // The result's batch axis: that of the first batched operand of the
  // result's rank, else the trailing axis.
  int out_axis = -1;
  int64_t size = -1;
  for (size_t k = 0; k < new_inputs.size(); ++k) {
    if (in_batch_axis[k] < 0) continue;
    size = b.type(new_inputs[k]).shape.at(in_batch_axis[k]);
    if (out_axis < 0 && in_types[k].rank() == r) out_axis = in_batch_axis[k];
  }
  if (size < 0) fail("internal", "batch rule called without a batched operand");
  if (out_axis < 0) out_axis = r;
  const Shape full = with_axis(n.type.shape, out_axis, size);
  std::vector<int> in;
  for (size_t k = 0; k < new_inputs.size(); ++k) {
    int v = new_inputs[k], ax = in_batch_axis[k];
    const Type& t = in_types[k];
    if (ax < 0) {
      if (t.rank() > 0) v = b.broadcast_to(b.reshape(v, with_axis(t.shape, out_axis, 1)), full);
    } else if (t.rank() == r) {
      if (ax != out_axis) {  // move axis ax to out_axis
        std::vector<int64_t> perm;
        for (int i = 0; i <= r; ++i)
          if (i != ax) perm.push_back(i);
        perm.insert(perm.begin() + out_axis, ax);
        v = b.transpose(v, perm);
      }
    } else {  // a batched scalar operand: [size] -> the batch axis of the result
      Shape ones((size_t)r + 1, 1);
      ones[out_axis] = size;
      v = b.broadcast_to(b.reshape(v, ones), full);
    }
    in.push_back(v);
  }
  *out_batch_axis = out_axis;
  return b.emit(n.prim, in, n.attrs);
}

}  // namespace rj

namespace rj {

int jvp_linear(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents) {
  if (!is_float(b.type(out).dtype)) return -1;
  bool any = false;
  for (int t : in_tangents) any = any || t >= 0;
  if (!any) return -1;
  std::vector<int> in;
  for (size_t k = 0; k < n.in.size(); ++k) {
    int t = k < in_tangents.size() ? in_tangents[k] : -1;
    in.push_back(t >= 0 ? t : b.zeros_like(n.in[k]));
  }
  return b.emit(n.prim, in, n.attrs);
}

int move_axis(Builder& b, int v, int from, int to) {
  if (from == to) return v;
  const int r = b.type(v).rank();
  std::vector<int64_t> perm;
  for (int i = 0; i < r; ++i)
    if (i != from) perm.push_back(i);
  perm.insert(perm.begin() + to, from);
  return b.transpose(v, perm);
}

int batch_last(Builder& b, int v, int ax, int64_t size) {
  const Type t = b.type(v);
  if (ax >= 0) return move_axis(b, v, ax, t.rank() - 1);
  Shape s = t.shape;
  s.push_back(1);
  Shape full = t.shape;
  full.push_back(size);
  return b.broadcast_to(b.reshape(v, s), full);
}

int64_t batch_size(Builder& b, const std::vector<int>& vals, const std::vector<int>& axes) {
  for (size_t k = 0; k < vals.size(); ++k)
    if (axes[k] >= 0) return b.type(vals[k]).shape.at(axes[k]);
  fail("internal", "batch rule called without a batched operand");
}

}  // namespace rj
