// Core IR: types, buffers, the primitive registry, graphs and the builder.
#include "ir.h"

#include "../runtime/memory.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "../runtime/status.h"

namespace rj {

// ---- dtypes and shapes -----------------------------------------------------

const char* dtype_name(DType d) {
  switch (d) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::b8: return "bool";
  }
  return "?";
}

DType dtype_from_name(const std::string& s) {
  if (s == "f32" || s == "float32" || s == "float") return DType::f32;
  if (s == "f64" || s == "float64" || s == "double") return DType::f64;
  if (s == "i32" || s == "int32" || s == "integer") return DType::i32;
  if (s == "bool" || s == "logical") return DType::b8;
  fail("dtype", "unknown dtype '" + s + "': use one of \"f64\", \"f32\", \"i32\", \"bool\"");
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::b8: return 1;
  }
  return 0;
}

int64_t shape_size(const Shape& s) {
  int64_t n = 1;
  for (auto d : s)
    if (__builtin_mul_overflow(n, d, &n))
      fail("memory", "an array of shape [" + shape_str(s) + "] has more elements than any machine can hold");
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out;
}

std::string Type::str() const { return std::string(dtype_name(dtype)) + "[" + shape_str(shape) + "]"; }

void fail(const std::string& kind, const std::string& msg) { throw Error(kind, msg); }

// ---- buffers ---------------------------------------------------------------

// Memory comes from the runtime's allocator (src/runtime/memory.h: reuse of
// large blocks, huge pages, the live-byte count R's collector is told about).
Buffer::Buffer(DType d, Shape s) : dtype(d), shape(std::move(s)) {
  double bytes = (double)dtype_size(d);
  for (auto e : shape) {
    if (e < 0) fail("shape", "negative dimension in shape [" + shape_str(shape) + "]");
    bytes *= (double)e;
  }
  int64_t m = machine_bytes();
  if (bytes > 9e18 || (m > 0 && bytes > (double)m))  // checked before size() could overflow
    fail("memory", "cannot allocate " + human_bytes(bytes) + " for an array " + Type{d, shape}.str() +
                       ": this machine has " + human_bytes((double)m) + " of memory. Use smaller arrays (or f32, half the size of f64)");
  size_t n = nbytes();
  data = alloc_block(n);
  if (n && !data)
    fail("memory", "cannot allocate " + human_bytes((double)n) + " for an array " + Type{d, shape}.str() +
                       ": the system refused (a memory limit such as ulimit -v, or no free memory)");
}

Buffer::~Buffer() { free_block(data, nbytes()); }  // views set data to nullptr first

double Buffer::get(int64_t i) const {
  switch (dtype) {
    case DType::f32: return as<float>()[i];
    case DType::f64: return as<double>()[i];
    case DType::i32: return as<int32_t>()[i];
    case DType::b8: return as<uint8_t>()[i];
  }
  return 0;
}

BufferPtr make_buffer(DType d, const Shape& s) { return std::make_shared<Buffer>(d, s); }

namespace {
struct ViewBuffer : Buffer {
  BufferPtr base;  // keeps the viewed memory alive
  ViewBuffer(const BufferPtr& b, size_t off, DType d, const Shape& s) : Buffer(d, Shape{0}), base(b) {
    shape = s;
    data = static_cast<char*>(b->data) + off;
  }
  ~ViewBuffer() { data = nullptr; }  // not ours to free
};
}  // namespace

BufferPtr buffer_view(const BufferPtr& base, size_t byte_offset, DType d, const Shape& s) {
  if (byte_offset + (size_t)shape_size(s) * dtype_size(d) > base->nbytes()) fail("internal", "buffer view out of range");
  return std::make_shared<ViewBuffer>(base, byte_offset, d, s);
}

BufferPtr scalar_buffer(DType d, double v) {
  auto b = make_buffer(d, {});
  switch (d) {
    case DType::f32: b->as<float>()[0] = (float)v; break;
    case DType::f64: b->as<double>()[0] = v; break;
    case DType::i32: b->as<int32_t>()[0] = (int32_t)v; break;
    case DType::b8: b->as<uint8_t>()[0] = v != 0; break;
  }
  return b;
}

// ---- attributes ------------------------------------------------------------

static void hash_mix(size_t& h, size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); }

size_t Attrs::hash() const {
  size_t h = 0;
  for (auto i : ints) hash_mix(h, std::hash<int64_t>()(i));
  hash_mix(h, 7);
  for (auto& l : lists) {
    for (auto i : l) hash_mix(h, std::hash<int64_t>()(i));
    hash_mix(h, 11);
  }
  for (auto s : shape) hash_mix(h, std::hash<int64_t>()(s));
  hash_mix(h, (size_t)dtype);
  hash_mix(h, std::hash<double>()(scalar));
  return h;
}

std::string Attrs::key() const {
  std::string k;
  auto put = [&](const void* p, size_t n) { k.append(static_cast<const char*>(p), n); };
  auto put_list = [&](const std::vector<int64_t>& l) {
    int64_t n = (int64_t)l.size();
    put(&n, 8);
    for (auto v : l) put(&v, 8);
  };
  put_list(ints);
  int64_t nl = (int64_t)lists.size();
  put(&nl, 8);
  for (auto& l : lists) put_list(l);
  put_list(shape);
  k += (char)dtype;
  put(&scalar, 8);
  return k;
}

// ---- registry --------------------------------------------------------------

static std::vector<PrimDef>& registry() {
  static std::vector<PrimDef> r;
  return r;
}
static std::unordered_map<std::string, int>& registry_index() {
  static std::unordered_map<std::string, int> r;
  return r;
}

int register_prim(PrimDef def) {
  auto& idx = registry_index();
  auto it = idx.find(def.name);
  if (it != idx.end()) return it->second;
  int id = (int)registry().size();
  idx[def.name] = id;
  registry().push_back(std::move(def));
  return id;
}

const PrimDef& prim(int id) { return registry().at(id); }

int prim_id(const std::string& name) {
  auto it = registry_index().find(name);
  if (it == registry_index().end()) fail("internal", "unknown primitive '" + name + "'");
  return it->second;
}

int prim_count() { return (int)registry().size(); }

// Graph inputs and constants are primitives too, so that every node has one.
static PrimDef structural(const char* name, const char* what) {
  PrimDef d;
  d.name = name;
  d.arity = 0;
  d.foldable = false;
  d.structural = what;
  return d;
}
static PrimRegistration reg_param(structural("param", "a graph input: its value is given, not computed"));
static PrimRegistration reg_const(structural("const", "a constant: its value is in the node, and it has no derivative"));

// ---- graphs ----------------------------------------------------------------

int Graph::add_param(const Type& t, const std::string& label) {
  Node n;
  n.prim = prim_id("param");
  n.type = t;
  n.label = label;
  nodes.push_back(std::move(n));
  int id = (int)nodes.size() - 1;
  params.push_back(id);
  return id;
}

int Graph::capture(Graph* outer, int id) {
  for (size_t i = 0; i < capture_src.size(); ++i)
    if (capture_src[i].outer == outer && capture_src[i].id == id) return captures[i];
  Node n;
  n.prim = prim_id("param");
  n.type = outer->type(id);
  n.label = "<captured>";
  nodes.push_back(std::move(n));
  int nid = (int)nodes.size() - 1;
  captures.push_back(nid);
  capture_src.push_back({outer, id});
  return nid;
}

std::vector<int> Graph::inputs() const {
  std::vector<int> r = params;
  r.insert(r.end(), captures.begin(), captures.end());
  return r;
}

// ---- builder ---------------------------------------------------------------

bool Builder::is_const(int v) const { return g.nodes[v].value != nullptr; }

bool Builder::is_const_value(int v, double x) const {
  const auto& n = g.nodes[v];
  if (!n.value) return false;
  int64_t m = n.value->size();
  for (int64_t i = 0; i < m; ++i)
    if (n.value->get(i) != x) return false;
  return m > 0;
}

int Builder::constant(BufferPtr value, bool weak) {
  Node n;
  n.prim = prim_id("const");
  n.type = Type{value->dtype, value->shape, weak};
  n.value = std::move(value);
  g.nodes.push_back(std::move(n));
  return (int)g.nodes.size() - 1;
}

int Builder::scalar(double v, DType d) { return constant(scalar_buffer(d, v)); }

int Builder::full(double v, Type like) {
  int s = scalar(v, like.dtype);
  return like.shape.empty() ? s : broadcast_to(s, like.shape);
}

int Builder::emit(const std::string& name, std::vector<int> in, const Attrs& a) {
  return emit(prim_id(name), std::move(in), a);
}

int Builder::emit(int pid, std::vector<int> in, const Attrs& a) {
  const PrimDef& p = prim(pid);
  if (p.arity >= 0 && (int)in.size() != p.arity)
    fail("internal", p.name + " takes " + std::to_string(p.arity) + " inputs, got " + std::to_string(in.size()));
  std::vector<Type> types;
  types.reserve(in.size());
  bool weak = (int)in.size() > p.n_control;
  bool all_const = true;
  for (size_t k = 0; k < in.size(); ++k) {
    int v = in[k];
    if (v < 0 || v >= (int)g.nodes.size()) fail("internal", p.name + ": input id out of range");
    types.push_back(g.nodes[v].type);
    if ((int)k >= p.n_control) weak = weak && g.nodes[v].type.weak;
    all_const = all_const && g.nodes[v].value != nullptr;
  }
  Type t = p.infer(types, a);
  if (!p.weak_from_infer) t.weak = weak;
  // Constant folding: evaluate now what does not depend on any input, except
  // large expansions (a scalar broadcast to n x p by a gradient rule): they
  // stay as cheap broadcast nodes that fusion reads in place, instead of
  // n x p constants that tracing must allocate and fill. Eager evaluation
  // runs such nodes through the interpreter (rcpp_trace.cpp).
  int64_t max_in = 0;
  for (const Type& ti : types) max_in = std::max<int64_t>(max_in, ti.size());
  bool expansion = t.size() > 4096 && t.size() > max_in;
  if (all_const && p.foldable && (p.eval || p.scalar) && !in.empty() && !expansion) {
    auto out = make_buffer(t.dtype, t.shape);
    std::vector<const Buffer*> bufs;
    for (int v : in) bufs.push_back(g.nodes[v].value.get());
    const uint32_t before = take_warnings();
    eval_prim(p, bufs, *out, a);
    const uint32_t raised = take_warnings();
    // A fold that warns (integer overflow of constants, ...) inside a trace
    // stays a node, so that the program warns each time it runs, as R
    // would; eager evaluation (level 0) folds and keeps the warning.
    if (!raised || g.level == 0) {
      raise_warning(before | raised);
      return constant(out, weak);
    }
    raise_warning(before);
  }
  // Common-subexpression elimination by hash-consing.
  size_t h = std::hash<int>()(pid);
  for (int v : in) hash_mix(h, std::hash<int>()(v));
  hash_mix(h, a.hash());
  auto& bucket = g.cse[h];
  for (int cand : bucket) {
    const Node& c = g.nodes[cand];
    if (c.prim == pid && c.in == in && c.attrs == a && c.sub.empty()) return cand;
  }
  Node n;
  n.prim = pid;
  n.in = std::move(in);
  n.attrs = a;
  n.type = std::move(t);
  g.nodes.push_back(std::move(n));
  int id = (int)g.nodes.size() - 1;
  bucket.push_back(id);
  return id;
}

std::vector<int> Builder::emit_tuple(const std::string& name, std::vector<int> in, std::vector<GraphPtr> sub,
                                     const Attrs& a, std::vector<Type> outs) {
  Node n;
  n.prim = prim_id(name);
  for (int v : in)
    if (v < 0 || v >= (int)g.nodes.size()) fail("internal", name + ": input id out of range");
  n.in = std::move(in);
  n.attrs = a;
  n.sub = std::move(sub);
  n.outs = std::move(outs);
  std::vector<Type> ts;
  for (int v : n.in) ts.push_back(g.nodes[v].type);
  n.type = prim(n.prim).infer(ts, a);
  g.nodes.push_back(std::move(n));
  int id = (int)g.nodes.size() - 1;
  std::vector<int> res;
  const std::vector<Type> types = g.nodes[id].outs;  // a copy: emit() grows g.nodes
  for (size_t k = 0; k < types.size(); ++k) {
    Attrs ga;
    ga.ints = {(int64_t)k};
    ga.dtype = types[k].dtype;
    ga.shape = types[k].shape;
    ga.scalar = types[k].weak ? 1 : 0;
    res.push_back(emit("tuple_get", {id}, ga));
  }
  return res;
}

int Builder::add(int a, int b) {
  if (is_const_value(a, 0) && type(b).shape == type(a).shape) return b;
  if (is_const_value(b, 0) && type(a).shape == type(b).shape) return a;
  return emit("add", {a, b});
}
int Builder::sub(int a, int b) { return emit("sub", {a, b}); }
int Builder::mul(int a, int b) { return emit("mul", {a, b}); }
int Builder::div(int a, int b) { return emit("div", {a, b}); }
int Builder::neg(int a) { return emit("neg", {a}); }

int Builder::convert(int a, DType d) {
  if (type(a).dtype == d) return a;
  Attrs at;
  at.dtype = d;
  return emit("convert", {a}, at);
}

int Builder::reshape(int a, Shape s) {
  if (type(a).shape == s) return a;
  Attrs at;
  at.shape = s;
  return emit("reshape", {a}, at);
}

int Builder::broadcast_to(int a, Shape s) {
  const Shape from = type(a).shape;
  if (from == s) return a;
  Attrs at;
  at.shape = s;
  if (from.empty()) return emit("broadcast", {a}, at);
  if (from.size() != s.size())
    fail("internal", "broadcast_to: rank mismatch [" + shape_str(from) + "] -> [" + shape_str(s) + "]");
  return emit("broadcast", {a}, at);
}

int Builder::sum(int a, std::vector<int64_t> axes) {
  if (axes.empty()) return a;
  Attrs at;
  at.ints = std::move(axes);
  return emit("reduce_sum", {a}, at);
}

int Builder::sum_to_shape(int a, Shape s) {
  const Shape from = type(a).shape;
  if (from == s) return a;
  if (s.empty()) {
    std::vector<int64_t> all(from.size());
    for (size_t i = 0; i < from.size(); ++i) all[i] = (int64_t)i;
    return sum(a, all);
  }
  std::vector<int64_t> axes;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == 1 && from[i] != 1) axes.push_back((int64_t)i);
  return reshape(sum(a, axes), s);
}

int Builder::transpose(int a, std::vector<int64_t> perm) {
  Attrs at;
  at.ints = std::move(perm);
  return emit("transpose", {a}, at);
}

int Builder::matmul(int a, int b, bool ta, bool tb) {
  Attrs at;
  at.ints = {ta ? 1 : 0, tb ? 1 : 0};
  return emit("matmul", {a, b}, at);
}

int Builder::select(int pred, int a, int b) { return emit("select", {pred, a, b}); }

// ---- R semantics for element-wise operators -----------------------------------

static int dtype_rank(DType d) {  // R's order: logical < integer < double
  switch (d) {
    case DType::b8: return 0;
    case DType::i32: return 1;
    case DType::f32: return 2;
    case DType::f64: return 3;
  }
  return 0;
}

Type promote(const Type& a, const Type& b, const std::string& op) {
  Type t;
  t.weak = a.weak && b.weak;
  if (a.dtype == b.dtype) {
    t.dtype = a.dtype;
  } else if (a.weak != b.weak) {
    // A weak operand adopts the strong one's dtype unless it would lose its
    // kind (an R double meeting an integer array gives f64, as R does).
    const Type& strong = a.weak ? b : a;
    const Type& weak = a.weak ? a : b;
    t.dtype = strong.dtype;
    if (!is_float(strong.dtype) && dtype_rank(weak.dtype) > dtype_rank(strong.dtype)) t.dtype = weak.dtype;
  } else {
    if (is_float(a.dtype) && is_float(b.dtype) && !t.weak)
      fail("dtype", "'" + op + "' mixes f32 and f64 arrays; rjax never promotes silently: convert one with as_dtype(x, \"f32\") or as_dtype(x, \"f64\")");
    t.dtype = dtype_rank(a.dtype) >= dtype_rank(b.dtype) ? a.dtype : b.dtype;
  }
  return t;
}

// Shape of R's recycling of operands: arrays must agree; shorter vectors
// recycle; a zero-length operand makes the result zero-length (as in R,
// where numeric(0) > 0 is logical(0)).
static Shape recycle_shape(const std::vector<Type>& ts, const std::string& op) {
  for (auto& t : ts)
    if (t.size() == 0) return t.shape;
  const Type* arr = nullptr;
  int64_t longest = -1;
  Shape out;
  for (auto& t : ts) {
    if (t.rank() >= 2) {
      if (arr && arr->shape != t.shape)
        fail("shape", "non-conformable arrays in '" + op + "': [" + shape_str(arr->shape) + "] and [" +
                          shape_str(t.shape) + "]");
      arr = &t;
    }
    if (t.size() > longest || (t.size() == longest && t.rank() > (int)out.size())) {
      longest = t.size();
      out = t.shape;
    }
  }
  if (arr) {
    if (longest > arr->size())
      fail("shape", "in '" + op + "', a vector of length " + std::to_string(longest) +
                        " is longer than the array [" + shape_str(arr->shape) + "]");
    out = arr->shape;
  }
  return out;
}

// Brings v to shape s by R recycling: scalars stay rank 0 (implicit
// broadcast); a vector whose length n divides the output's length repeats
// along a new trailing axis ([n] -> [n, total / n] -> s), which covers a
// length-nrow vector over a matrix as well as a shorter vector over a longer one.
static int recycle_to(Builder& b, int v, const Shape& s, const std::string& op) {
  const Type& t = b.type(v);
  if (t.shape == s) return v;
  int64_t n = t.size(), total = shape_size(s);
  if (n == 1) return b.reshape(v, {});
  if (n == total) return b.reshape(v, s);
  if (total % n != 0)
    fail("shape", "in '" + op + "', longer object length (" + std::to_string(total) +
                      ") is not a multiple of shorter object length (" + std::to_string(n) + ")");
  return b.reshape(b.broadcast_to(b.reshape(v, {n, 1}), {n, total / n}), s);
}

int r_elementwise(Builder& b, const std::string& p, std::vector<int> in, const Attrs& a) {
  const PrimDef& def = prim(prim_id(p));
  const std::string op = def.r_name ? def.r_name : p;
  if (def.arity >= 0 && (int)in.size() != def.arity)
    fail("internal", "'" + op + "' takes " + std::to_string(def.arity) + " operands");
  std::vector<Type> ts;
  for (int v : in) ts.push_back(b.type(v));
  Shape out = recycle_shape(ts, op);

  if (p == "select") {  // ifelse(test, yes, no)
    Type t = promote(ts[1], ts[2], op);
    int pred = recycle_to(b, b.convert(in[0], DType::b8), out, op);
    int y = recycle_to(b, b.convert(in[1], t.dtype), out, op);
    int n = recycle_to(b, b.convert(in[2], t.dtype), out, op);
    return b.emit("select", {pred, y, n});
  }

  // The operands' common dtype (weak operands adopt the strong ones'), then
  // the primitive's own promotion (R: 1L / 2L is double, TRUE + TRUE integer).
  Type t = ts[0];
  for (size_t k = 1; k < ts.size(); ++k) t = promote(t, ts[k], op);
  DType target = t.dtype;
  switch (def.r_promote) {
    case RPromote::numeric: if (target == DType::b8) target = DType::i32; break;
    case RPromote::floating: if (!is_float(target)) target = DType::f64; break;
    case RPromote::logical: target = DType::b8; break;
    case RPromote::keep:
    case RPromote::none: break;
  }
  std::vector<int> args;
  for (int v : in) args.push_back(recycle_to(b, b.convert(v, target), out, op));
  return b.emit(p, args, a);
}

// ---- printing ----------------------------------------------------------------

static std::string var_name(int k) {
  std::string s;
  do {
    s.insert(s.begin(), (char)('a' + k % 26));
    k = k / 26 - 1;
  } while (k >= 0);
  return s;
}

static std::string literal(const Buffer& b) {
  std::ostringstream os;
  double v = b.get(0);
  if (b.dtype == DType::b8) return v ? "TRUE" : "FALSE";
  if (b.dtype == DType::i32) return std::to_string((long long)v) + "L";
  os.precision(7);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eEni") == std::string::npos) s += ".0";
  return s;
}

static std::string default_attrs(const Attrs& a) {
  std::ostringstream os;
  bool first = true;
  auto sep = [&] { os << (first ? "" : " "); first = false; };
  if (!a.ints.empty()) { sep(); os << "ints=(" << shape_str(a.ints) << ")"; }
  if (!a.shape.empty()) { sep(); os << "shape=(" << shape_str(a.shape) << ")"; }
  return os.str();
}

static void print_body(const Graph& g, std::ostringstream& os, const std::string& indent,
                       std::unordered_map<int, std::string>& names, int& counter);

std::string print_graph(const Graph& g) {
  std::ostringstream os;
  std::unordered_map<int, std::string> names;
  int counter = 0;
  print_body(g, os, "", names, counter);
  return os.str();
}

static void print_body(const Graph& g, std::ostringstream& os, const std::string& indent,
                       std::unordered_map<int, std::string>& names, int& counter) {
  auto name_of = [&](int v) -> std::string {
    const Node& n = g.nodes[v];
    if (n.value && n.value->size() == 1 && n.type.shape.empty()) return literal(*n.value) + (n.type.weak ? "" : ":" + std::string(dtype_name(n.type.dtype)));
    auto it = names.find(v);
    return it == names.end() ? "?" : it->second;
  };
  auto declare = [&](int v) {
    names[v] = var_name(counter++);
    const Node& n = g.nodes[v];
    if (!n.is_tuple()) return names[v] + ":" + n.type.str();
    std::string ts;  // a tuple node: the types of its outputs
    for (size_t k = 0; k < n.outs.size(); ++k) ts += (k ? ", " : "") + n.outs[k].str();
    return names[v] + ":(" + ts + ")";
  };
  // Constants that are not scalars are listed like JAX's constvars.
  std::vector<std::string> consts, ins;
  for (size_t v = 0; v < g.nodes.size(); ++v)
    if (g.nodes[v].value && !(g.nodes[v].value->size() == 1 && g.nodes[v].type.shape.empty()))
      consts.push_back(declare((int)v));
  for (int v : g.inputs()) ins.push_back(declare(v));
  os << indent << "{ lambda ";
  for (auto& c : consts) os << c << " ";
  os << "; ";
  for (size_t i = 0; i < ins.size(); ++i) os << (i ? " " : "") << ins[i];
  os << ". let\n";
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    const PrimDef& p = prim(n.prim);
    if (p.name == "param" || p.name == "const") continue;
    std::string lhs = declare((int)v);
    os << indent << "    " << lhs << " = " << p.name;
    std::string at = p.print_attrs ? p.print_attrs(n.attrs) : default_attrs(n.attrs);
    if (!at.empty()) os << "[" << at << "]";
    for (int i : n.in) os << " " << name_of(i);
    os << "\n";
    for (auto& s : n.sub) {  // names continue the count, so that they stay unique
      std::unordered_map<int, std::string> sub_names;
      print_body(*s, os, indent + "      ", sub_names, counter);
    }
  }
  os << indent << "  in (";
  for (size_t i = 0; i < g.outputs.size(); ++i) os << (i ? ", " : "") << name_of(g.outputs[i]);
  os << ") }\n";
}

// ---- verification --------------------------------------------------------------

void verify(const Graph& g) {
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    const PrimDef& p = prim(n.prim);
    if (p.name == "param" || p.name == "const") continue;
    std::vector<Type> ts;
    for (int i : n.in) {
      if (i < 0 || i >= (int)v) fail("internal", "node " + std::to_string(v) + " (" + p.name + ") uses a later value");
      ts.push_back(g.nodes[i].type);
    }
    Type t = p.infer(ts, n.attrs);
    if (!t.same(n.type))
      fail("internal", "node " + std::to_string(v) + " (" + p.name + ") has type " + n.type.str() + " but its rule gives " + t.str());
  }
  for (int o : g.outputs)
    if (o < 0 || o >= (int)g.nodes.size()) fail("internal", "graph output out of range");
}

std::vector<int> param_ancestors(const Graph& g, int v) {
  std::vector<char> seen(g.nodes.size(), 0);
  std::vector<int> stack{v};
  while (!stack.empty()) {
    int x = stack.back();
    stack.pop_back();
    if (seen[x]) continue;
    seen[x] = 1;
    for (int i : g.nodes[x].in) stack.push_back(i);
  }
  std::vector<int> out;
  auto ins = g.inputs();
  for (size_t k = 0; k < ins.size(); ++k)
    if (seen[ins[k]]) out.push_back((int)k);
  return out;
}

}  // namespace rj
