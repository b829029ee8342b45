// The rjax IR: typed SSA graphs of tensor primitives.
//
// This header is the whole vocabulary of the C++ core. It includes no R
// headers: the core is a plain C++ library that the Rcpp glue (src/rcpp_*.cpp)
// and the standalone driver both use.
//
// Conventions
// - Shapes are R dims: column-major, first index fastest. Rank 0 is a scalar,
//   rank 1 an R vector without dim, rank >= 2 an R array.
// - A value is the id of the node that computes it (every node has one output).
// - Element-wise primitives take operands of the output shape or rank-0 scalars
//   (implicit scalar broadcast keeps graphs small and fusion trivial).
// - Types carry JAX's "weak" flag: plain R numbers adopt the dtype of the
//   array they meet instead of promoting it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace rj {

enum class DType : uint8_t { f32 = 0, f64 = 1, i32 = 2, b8 = 3 };
const char* dtype_name(DType d);
DType dtype_from_name(const std::string& s);
size_t dtype_size(DType d);
inline bool is_float(DType d) { return d == DType::f32 || d == DType::f64; }

using Shape = std::vector<int64_t>;
int64_t shape_size(const Shape& s);
std::string shape_str(const Shape& s);  // "116,114"

struct Type {
  DType dtype = DType::f64;
  Shape shape;
  bool weak = false;
  int64_t size() const { return shape_size(shape); }
  int rank() const { return (int)shape.size(); }
  bool same(const Type& o) const { return dtype == o.dtype && shape == o.shape; }
  std::string str() const;  // "f32[116,114]"
};

// Errors thrown by the core. The glue turns each kind into a classed R
// condition (rjax_shape_error, rjax_dtype_error, ...).
struct Error : std::runtime_error {
  std::string kind;
  Error(std::string k, const std::string& msg) : std::runtime_error(msg), kind(std::move(k)) {}
};
[[noreturn]] void fail(const std::string& kind, const std::string& msg);

// A dense column-major array in host memory (64-byte aligned).
struct Buffer {
  DType dtype;
  Shape shape;
  void* data = nullptr;
  Buffer(DType d, Shape s);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  int64_t size() const { return shape_size(shape); }
  size_t nbytes() const { return (size_t)size() * dtype_size(dtype); }
  template <class T> T* as() { return static_cast<T*>(data); }
  template <class T> const T* as() const { return static_cast<const T*>(data); }
  double get(int64_t i) const;  // element as double (any dtype)
};
using BufferPtr = std::shared_ptr<Buffer>;
BufferPtr make_buffer(DType d, const Shape& s);
BufferPtr scalar_buffer(DType d, double v);
// A buffer over part of another one's memory (which it keeps alive): the
// slices of a scan's stacked inputs are read in place, without copies.
BufferPtr buffer_view(const BufferPtr& base, size_t byte_offset, DType d, const Shape& s);

// Static attributes of a node. One flat struct for every primitive keeps
// hashing, equality (CSE) and printing generic; each primitive documents which
// fields it reads.
struct Attrs {
  std::vector<int64_t> ints;               // axes, permutation, flags
  std::vector<std::vector<int64_t>> lists; // per-dimension index sets (0-based)
  Shape shape;                             // target shape
  DType dtype = DType::f64;                // target dtype (convert, fill)
  double scalar = 0;                       // fill value, exponent, ...
  bool operator==(const Attrs& o) const {
    return ints == o.ints && lists == o.lists && shape == o.shape && dtype == o.dtype &&
           (scalar == o.scalar || (scalar != scalar && o.scalar != o.scalar));
  }
  size_t hash() const;
};

struct Graph;
using GraphPtr = std::shared_ptr<Graph>;

struct Node {
  int prim = -1;
  std::vector<int> in;
  Attrs attrs;
  Type type;
  BufferPtr value;             // const nodes only
  std::vector<GraphPtr> sub;   // control-flow bodies
  std::string label;           // param nodes: the argument path ("x", "params$M")
  // Tuple nodes (control flow: scan, while, cond) have several outputs: their
  // types are here, `type` is a placeholder, and each output is read by a
  // tuple_get node (see Builder::emit_tuple).
  std::vector<Type> outs;
  bool is_tuple() const { return !outs.empty(); }
};

struct Capture {  // a value of an enclosing trace used inside this one
  Graph* outer;
  int id;
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<int> params;     // explicit inputs, in order
  std::vector<int> captures;   // implicit inputs (param nodes), after params
  std::vector<Capture> capture_src;
  std::vector<int> outputs;
  int level = 0;               // nesting depth of the trace that builds it
  bool closed = false;         // tracing finished: its tracers must not be used
  std::unordered_map<size_t, std::vector<int>> cse;  // hash-consing table

  const Type& type(int v) const { return nodes.at(v).type; }
  int add_param(const Type& t, const std::string& label);
  int capture(Graph* outer, int id);  // memoised implicit input
  std::vector<int> inputs() const;    // params then captures
};

// ---------------------------------------------------------------------------
// Primitives: one definition holds all the rules of a primitive.

struct Builder;

using InferFn = Type (*)(const std::vector<Type>& in, const Attrs& a);
using EvalFn = void (*)(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a);
// Reverse-mode rule, written in IR so that it can itself be differentiated:
// given the node and the cotangent of its output, return one cotangent per
// input (-1 where the input gets none: integer inputs, indices, ...).
using VjpFn = std::vector<int> (*)(Builder& b, const Node& n, int out, int ct);
// The same for tuple nodes: one cotangent per output (-1: none reached it).
using VjpTupleFn = std::vector<int> (*)(Builder& b, const Node& n, const std::vector<int>& cts);

struct PrimDef {
  std::string name;
  int arity = -1;           // -1: variadic
  InferFn infer = nullptr;
  EvalFn eval = nullptr;    // interpreter kernel (reference semantics)
  VjpFn vjp = nullptr;      // nullptr: not differentiable (error if reached)
  bool elementwise = false; // fusable per-element computation
  bool foldable = true;     // may be evaluated at build time on constants
  std::string (*print_attrs)(const Attrs&) = nullptr;
  // Leading inputs that do not carry the value (select's predicate): the
  // output is weakly typed when all the other inputs are.
  int n_control = 0;
  VjpTupleFn vjp_tuple = nullptr;  // tuple nodes (control flow)
  // The output's weak flag is the one infer() returns (tuple_get: the weak
  // flag of the control node's output), not derived from the inputs.
  bool weak_from_infer = false;
};

int register_prim(PrimDef def);  // returns the primitive's id
const PrimDef& prim(int id);
int prim_id(const std::string& name);  // throws for unknown names
int prim_count();

// Registers a primitive at load time; use at namespace scope in src/prims/*.cpp.
struct PrimRegistration {
  explicit PrimRegistration(PrimDef def) { register_prim(std::move(def)); }
};

// ---------------------------------------------------------------------------
// Building graphs. Every node enters a graph through emit(): it infers the
// type, folds constants and shares identical nodes (CSE), so the tracer,
// the VJP rules and the passes all build graphs the same way.

struct Builder {
  Graph& g;
  explicit Builder(Graph& graph) : g(graph) {}
  const Type& type(int v) const { return g.type(v); }

  int emit(const std::string& name, std::vector<int> in, const Attrs& a = {});
  int emit(int prim_id, std::vector<int> in, const Attrs& a = {});
  // A tuple node owning sub-graphs (never folded or shared), and one
  // tuple_get per output; returns the tuple_get ids.
  std::vector<int> emit_tuple(const std::string& name, std::vector<int> in, std::vector<GraphPtr> sub,
                              const Attrs& a, std::vector<Type> outs);
  int constant(BufferPtr value, bool weak = false);
  int scalar(double v, DType d);               // rank-0 constant
  int full(double v, Type like);               // constant of a type (broadcast scalar)
  int zeros_like(int v) { return full(0, type(v)); }

  // Exact-shape helpers used by VJP rules and passes. Shapes and types are
  // taken by value: a reference into g.nodes (b.type(v).shape) would dangle
  // as soon as emit() grows the node vector.
  int add(int a, int b);
  int sub(int a, int b);
  int mul(int a, int b);
  int div(int a, int b);
  int neg(int a);
  int convert(int a, DType d);
  int reshape(int a, Shape s);
  int broadcast_to(int a, Shape s);   // numpy-style on column-major dims
  int sum(int a, std::vector<int64_t> axes); // drops the axes
  int sum_to_shape(int a, Shape s);   // inverse of broadcast_to
  int transpose(int a, std::vector<int64_t> perm);
  int matmul(int a, int b, bool ta = false, bool tb = false);
  int select(int pred, int a, int b);
  bool is_const(int v) const;
  bool is_const_value(int v, double x) const;  // constant with every element == x
};

// R-semantics element-wise operators used by the front end: weak-type
// promotion, integer-to-float for math, and R's recycling of shorter operands.
int r_elementwise(Builder& b, const std::string& prim_name, std::vector<int> in);
// The dtype R arithmetic gives two operands (weak types adopt the other's).
Type promote(const Type& a, const Type& b, const std::string& op);

// Printing and checking.
std::string print_graph(const Graph& g);
void verify(const Graph& g);  // throws Error("internal", ...) when inconsistent

// Ids of the params (indices into g.inputs()) that value v depends on.
std::vector<int> param_ancestors(const Graph& g, int v);

}  // namespace rj
