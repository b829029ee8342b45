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
#include <cstring>
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
  std::string key() const;  // every field, exactly (for compile-cache keys)
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
//
// A primitive is registered once (PrimRegistration in src/prims/*.cpp) with
// every rule it has; nothing about it is written anywhere else: the backends
// lower element-wise primitives from their scalar description and
// reductions from their monoid, the transforms read the derivative and
// batching rules from here, and the registry test (tests/testthat/
// test-registry.R, via src/rcpp_registry.cpp) checks that each rule exists.
//
// Rules of every primitive:
//   infer      type rule (shapes, dtypes; throws Error("shape"/"dtype") on bad input)
//   evaluation eval (a kernel on buffers), or, for element-wise primitives,
//              `scalar` (run by the interpreter's tape), or for reductions
//              `monoid` with eval; or `no_eval`: why no kernel exists
//   derivative partials (element-wise), or vjp/vjp_tuple (hand-written
//              reverse rule), or `nondiff`: why it has no derivative (its
//              inputs then get zero cotangents and tangents)
//   jvp, batch forward-mode and batching rules (see their types below)
//   backends   which backends run it natively (kBackend* bits)
// Structural nodes (param, const, tuple_get) carry `structural` instead.

struct Builder;
struct SVal;
struct ScalarBuilder;
struct Monoid;

using InferFn = Type (*)(const std::vector<Type>& in, const Attrs& a);
using EvalFn = void (*)(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a);

// Scalar description of an element-wise primitive: its value at one element
// from the values of its operands at that element (args[k] has operand k's
// dtype; rank-0 operands are broadcast by the backend), built from the basis
// ops of ScalarBuilder (src/ir/scalar.h). It must return a value of the
// output dtype that infer() gives. Every backend lowers this one function.
using ScalarFn = SVal (*)(ScalarBuilder& s, const std::vector<SVal>& args, const Attrs& a);

// Partial derivatives of an element-wise primitive, in IR: given node n of
// b.g (its inputs are ids of b.g) and `out`, the id of n's own value in b.g,
// returns per input k an id of d out / d in_k (the output's dtype, and the
// output's shape or rank 0), or -1 where the input gets no derivative
// (integer inputs, predicates). The VJP (ct * partial_k summed back to in_k's
// shape) and the JVP (sum_k t_k * partial_k) are derived from it generically
// (src/prims/derive.cpp), so an element-wise primitive never writes either.
using PartialsFn = std::vector<int> (*)(Builder& b, const Node& n, int out);

// Reverse-mode rule, written in IR so that it can itself be differentiated:
// given node n of b.g (inputs are ids of b.g), `out` its id in b.g and `ct`
// the cotangent of its output (out's type), returns one cotangent per input
// (its type exactly) or -1 where the input gets none (integer inputs,
// indices, ...).
using VjpFn = std::vector<int> (*)(Builder& b, const Node& n, int out, int ct);
// The same for tuple nodes: one cotangent per output (-1: none reached it).
using VjpTupleFn = std::vector<int> (*)(Builder& b, const Node& n, const std::vector<int>& cts);

// Forward-mode rule (JVP). Contract:
//   n           a node of b.g whose primal value is available: n.in are ids
//               of b.g (the primal inputs), `out` is n's own id in b.g
//   in_tangents one per input: the id in b.g of the input's tangent (same
//               type as the input, f32/f64 only), or -1 for a zero tangent
//   returns     the id in b.g of the output's tangent (out's type), or -1
//               when the tangent is zero (all in_tangents -1, or the
//               primitive is non-differentiable)
// Must be written in IR with differentiable primitives (so that jvp of jvp
// and vjp of jvp work). Tuple nodes (control flow) need their own rule type:
// that is for the transform's author (wave 2) to add.
using JvpFn = int (*)(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents);

// Batching rule (vmap). Contract:
//   n              the unbatched node (of the graph being batched; read its
//                  attrs and its inputs' unbatched types from in_types)
//   in_types       the unbatched types of n's inputs
//   new_inputs     per input, the id in b.g of its batched (or unbatched) value
//   in_batch_axis  per input, the axis of new_inputs[k] that is the batch
//                  axis (0 <= axis <= rank of the unbatched input), or -1
//                  when the input is not batched
//   out_batch_axis set to the batch axis of the result (-1: not batched)
//   returns        the id in b.g of the (batched) result
// At least one input is batched when the rule is called. All batched
// inputs share the batch size. The axis convention (leading or trailing) is
// the transform's choice; rules must accept any axis.
using BatchFn = int (*)(Builder& b, const Node& n, const std::vector<Type>& in_types,
                        const std::vector<int>& new_inputs, const std::vector<int>& in_batch_axis,
                        int* out_batch_axis);

// Forward rule of a tuple node (control flow). n's inputs are ids of b.g and
// in_tangents holds one tangent per input (-1: zero). The rule emits the node
// together with its tangents and returns the ids of the primal outputs;
// *out_tangents gets one tangent per output (-1: zero).
using JvpTupleFn = std::vector<int> (*)(Builder& b, const Node& n, const std::vector<int>& in_tangents,
                                        std::vector<int>* out_tangents);
// Batching rule of a tuple node: arguments as BatchFn; returns the ids of the
// outputs and sets *out_batch_axis to one axis per output (-1: unbatched).
using BatchTupleFn = std::vector<int> (*)(Builder& b, const Node& n, const std::vector<Type>& in_types,
                                          const std::vector<int>& new_inputs, const std::vector<int>& in_batch_axis,
                                          std::vector<int>* out_batch_axis);

// Backends that run a primitive natively (PrimDef::backends).
enum : uint32_t { kBackendInterp = 1u << 0, kBackendLlvm = 1u << 1 };

// How R's element-wise operators bring operands to a common dtype before
// calling the primitive (r_elementwise in ir.cpp reads this, so R's type
// rules sit in the definition too).
enum class RPromote : uint8_t {
  none,      // not reached from r_elementwise
  numeric,   // common dtype; bool becomes i32 (R: TRUE + TRUE is 2L)
  floating,  // common dtype; integer and bool become f64 (R: 1L / 2L, exp(1L))
  logical,   // every operand becomes bool (R: &, |, !)
  keep,      // common dtype, bool kept (comparisons, is.na, ...)
};

struct PrimDef {
  std::string name;
  int arity = -1;           // -1: variadic
  InferFn infer = nullptr;
  EvalFn eval = nullptr;    // interpreter kernel (reference semantics); element-wise prims use `scalar`
  ScalarFn scalar = nullptr;       // element-wise primitives: the one scalar description
  PartialsFn partials = nullptr;   // element-wise primitives: derivatives (VJP and JVP derive from it)
  const Monoid* monoid = nullptr;  // reductions and cumulative ops: identity, combine, finish
  VjpFn vjp = nullptr;             // hand-written reverse rule (non-element-wise prims)
  VjpTupleFn vjp_tuple = nullptr;  // tuple nodes (control flow)
  JvpFn jvp = nullptr;             // forward rule (derived for element-wise prims; wave 2 writes the rest)
  BatchFn batch = nullptr;         // batching rule (element-wise prims have the generic one)
  JvpTupleFn jvp_tuple = nullptr;  // tuple nodes (control flow): forward rule
  BatchTupleFn batch_tuple = nullptr;  // tuple nodes: batching rule
  const char* nondiff = nullptr;   // non-differentiable: the reason (inputs get zero cotangents)
  const char* no_eval = nullptr;   // no kernel: the reason (inlined calls, control flow run by executors)
  const char* structural = nullptr;  // graph structure (param, const, tuple_get), handled by every
                                     // transform and backend itself: what it is (no rules apply)
  uint32_t backends = kBackendInterp | kBackendLlvm;  // where it runs (lib calls of eval count)
  bool elementwise = false; // per-element computation (has `scalar`): fusable
  bool reduces = false;     // a monoid reduction over the axes attrs.ints (fusable as a reduction)
  bool foldable = true;     // may be evaluated at build time on constants
  std::string (*print_attrs)(const Attrs&) = nullptr;
  // Leading inputs that do not carry the value (select's predicate): the
  // output is weakly typed when all the other inputs are.
  int n_control = 0;
  // The output's weak flag is the one infer() returns (tuple_get: the weak
  // flag of the control node's output), not derived from the inputs.
  bool weak_from_infer = false;
  RPromote r_promote = RPromote::none;  // R's operand promotion (element-wise prims)
  const char* r_name = nullptr;         // the R verb, for messages and the registry ("+", "atan2", ...)
};

// Evaluates primitive p on buffers with the interpreter's semantics:
// p.eval, or the scalar description through the interpreter's tape
// (src/backend/interp/tape.cpp). Every caller that runs a primitive on
// buffers (constant folding, the interpreter, library calls of the LLVM
// backend) goes through here.
void eval_prim(const PrimDef& p, const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a);

// R's NA values in rjax buffers: i32 holds NA_integer_ (INT_MIN, as R), bool
// holds 0xFF (TRUE is 1, FALSE 0), f64 holds R's NA_real_ (a NaN whose low
// word is 1954; arithmetic keeps the payload as R's does), f32 only NaN
// (its payload cannot survive the conversion, so NA and NaN merge in f32).
constexpr int32_t kNAInt = INT32_MIN;
constexpr uint8_t kNABool = 0xFF;
// R's NA_real_ (the quiet form arithmetic produces), and R's R_IsNA: a NaN
// whose low word is 1954. Inline: kernels test every element.
inline double na_real() {
  const uint64_t bits = 0x7FF80000000007A2ULL;
  double x;
  std::memcpy(&x, &bits, 8);
  return x;
}
inline bool is_na_real(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  return x != x && (uint32_t)bits == 1954u;
}

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
// promotion, the primitive's operand promotion (PrimDef::r_promote), and
// R's recycling of shorter operands.
int r_elementwise(Builder& b, const std::string& prim_name, std::vector<int> in, const Attrs& a = {});
// The dtype R arithmetic gives two operands (weak types adopt the other's).
Type promote(const Type& a, const Type& b, const std::string& op);

// Printing and checking.
std::string print_graph(const Graph& g);
void verify(const Graph& g);  // throws Error("internal", ...) when inconsistent

// Ids of the params (indices into g.inputs()) that value v depends on.
std::vector<int> param_ancestors(const Graph& g, int v);

}  // namespace rj
