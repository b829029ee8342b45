// R glue for tracing and running programs: binding primitives to values
// (traced or concrete), graph construction, transforms and execution.
//
// Eager ("no jit") evaluation is tracing with constant inputs: the builder
// folds every node whose inputs are constants, so a primitive applied to
// rj_arrays runs its kernel at once. One code path serves both modes.
//
// This file only converts: R values to node ids (to_node) and results back
// (results_to_r). Building control-flow and custom_vjp nodes, inlining
// graphs and evaluating non-foldable nodes are core work
// (src/transforms/trace_build.h, src/backend/eager.h).
#include "backend/eager.h"
#include "rcpp_glue.h"
#include "rcpp_warnings.h"
#include "transforms/passes.h"
#include "transforms/trace_build.h"

namespace rj {
namespace {

// The innermost open trace among some R values (nullptr: none, all concrete).
struct Ctx {
  GraphPtr g;
  SEXP gptr = R_NilValue;
};

void consider(Ctx& c, SEXP x) {
  if (!is_tracer(x)) return;
  GraphPtr g = tracer_graph(x);
  if (g->closed)
    fail("escaped_tracer", "a traced value escaped the function that created it (stored in a global or returned "
                           "through a side channel); pass it as an argument or return it instead");
  if (!c.g || g->level > c.g->level) {
    c.g = g;
    c.gptr = R_do_slot(x, Rf_install("graph"));
  }
}

// Brings an R value into graph g: a tracer of g, a tracer of an enclosing
// trace (captured), an rj_array (strong constant), or R data (weak constant).
int to_node(Builder& b, SEXP x) {
  if (is_tracer(x)) {
    GraphPtr g = tracer_graph(x);
    int id = tracer_id(x);
    if (g.get() == &b.g) return id;
    if (g->level >= b.g.level) fail("internal", "a tracer of an unrelated trace was used");
    return b.g.capture(g.get(), id);
  }
  if (is_array(x)) return b.constant(array_buffer(x), false);
  return b.constant(buffer_from_r(x, ""), true);
}

std::vector<int> apply_op(Builder& b, const std::string& op, const std::vector<int>& in, const Attrs& a) {
  if (op.compare(0, 3, "ew:") == 0) return {r_elementwise(b, op.substr(3), in, a)};
  return {b.emit(op, in, a)};
}

// Results back to R: tracers when tracing, arrays when every value is known.
// Concrete inputs of traces whose parameters' values are known (un-jitted
// grad(): R's `if` on a traced condition then works, as under JAX's grad),
// by graph, until the trace is closed.
std::unordered_map<const Graph*, std::vector<BufferPtr>>& concrete_inputs() {
  static std::unordered_map<const Graph*, std::vector<BufferPtr>> m;
  return m;
}

// The truth value of a one-element bool value of a trace with concrete
// inputs (the graph so far, run by the interpreter); -1 when unknown.
int concrete_truth(const GraphPtr& g, int id) {
  auto& m = concrete_inputs();
  auto it = m.find(g.get());
  if (it == m.end()) return -1;
  const Type& t = g->type(id);
  if (t.dtype != DType::b8 || shape_size(t.shape) != 1 || !g->captures.empty()) return -1;
  try {
    auto gp = std::make_shared<Graph>(*g);
    gp->outputs = {id};
    auto res = compile_interp(dce(*gp))->run(it->second);
    uint8_t v = res.at(0)->as<uint8_t>()[0];
    return v == kNABool ? NA_LOGICAL : (v != 0);
  } catch (const std::exception&) {
    return -1;  // the value stays unknown: R's `if` gives the concretization error
  }
}

SEXP results_to_r(const Ctx& c, Graph& g, const std::vector<int>& ids) {
  SEXP out = PROTECT(r_alloc(VECSXP, (R_xlen_t)ids.size()));
  std::vector<int> pending;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (c.g) SET_VECTOR_ELT(out, k, new_tracer(c.g, c.gptr, ids[k], concrete_truth(c.g, ids[k])));
    else if (g.nodes[ids[k]].value) SET_VECTOR_ELT(out, k, new_array(g.nodes[ids[k]].value));
    else pending.push_back((int)k);
  }
  if (!pending.empty()) {  // non-foldable primitives: run the small graph
    std::vector<int> which;
    for (int k : pending) which.push_back(ids[k]);
    auto res = eval_nodes(g, which);
    for (size_t j = 0; j < pending.size(); ++j) SET_VECTOR_ELT(out, pending[j], new_array(res[j]));
  }
  UNPROTECT(1);
  return out;
}

}  // namespace
}  // namespace rj

using namespace rj;

extern "C" {

// Applies operation `op` (a primitive name, or "ew:<prim>" for R's
// element-wise semantics) to the values in list `args`.
static SEXP bind_impl(SEXP op, SEXP args, SEXP attrs) {
  RJ_TRY
  Ctx c;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) consider(c, VECTOR_ELT(args, i));
  Graph scratch;
  Graph& g = c.g ? *c.g : scratch;
  Builder b(g);
  std::vector<int> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) in.push_back(to_node(b, VECTOR_ELT(args, i)));
  auto ids = apply_op(b, str_arg(op), in, attrs_from_r(attrs));
  return results_to_r(c, g, ids);
  RJ_CATCH
  return R_NilValue;
}

// Runs bind_impl; then the warnings its kernels raised become R warnings.
SEXP rjc_bind(SEXP op, SEXP args, SEXP attrs) {
  rj_clear_warnings();
  return rj_emit_warnings(bind_impl(op, args, attrs));
}

SEXP rjc_graph_new(SEXP level) {
  RJ_TRY
  auto g = std::make_shared<Graph>();
  g->level = Rf_asInteger(level);
  return wrap_graph(g);
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_graph_param(SEXP gptr, SEXP dtype, SEXP shape, SEXP weak, SEXP label) {
  RJ_TRY
  GraphPtr g = get_graph(gptr);
  Type t;
  t.dtype = dtype_from_name(str_arg(dtype));
  for (int i = 0; i < Rf_length(shape); ++i) t.shape.push_back(INTEGER(shape)[i]);
  t.weak = Rf_asLogical(weak) == TRUE;
  int id = g->add_param(t, str_arg(label));
  return new_tracer(g, gptr, id);
  RJ_CATCH
  return R_NilValue;
}

// Sets the outputs (any R values: tracers of g, captured tracers, constants)
// and closes the trace.
SEXP rjc_graph_finish(SEXP gptr, SEXP outs) {
  RJ_TRY
  GraphPtr g = get_graph(gptr);
  Builder b(*g);
  g->outputs.clear();
  for (R_xlen_t i = 0; i < Rf_xlength(outs); ++i) {
    SEXP x = VECTOR_ELT(outs, i);
    if (is_tracer(x) && tracer_graph(x)->closed)
      fail("escaped_tracer", "a traced value from a finished trace was returned");
    g->outputs.push_back(to_node(b, x));
  }
  concrete_inputs().erase(g.get());
  g->closed = true;
  return R_NilValue;
  RJ_CATCH
  return R_NilValue;
}

// Gives a trace the concrete values of its parameters (R values or
// rj_arrays, in parameter order).
SEXP rjc_graph_set_concrete(SEXP gptr, SEXP values) {
  RJ_TRY
  GraphPtr g = get_graph(gptr);
  if ((size_t)Rf_xlength(values) != g->params.size()) fail("internal", "concrete inputs: wrong number of values");
  std::vector<BufferPtr> in;
  for (R_xlen_t i = 0; i < Rf_xlength(values); ++i) {
    SEXP x = VECTOR_ELT(values, i);
    in.push_back(is_array(x) ? array_buffer(x) : buffer_from_r(x, dtype_name(g->type(g->params[i]).dtype)));
  }
  concrete_inputs()[g.get()] = std::move(in);
  return R_NilValue;
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_graph_close(SEXP gptr) {
  RJ_TRY
  concrete_inputs().erase(get_graph(gptr).get());
  get_graph(gptr)->closed = true;
  return R_NilValue;
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_graph_optimize(SEXP gptr) {
  RJ_TRY
  GraphPtr g = optimize(*get_graph(gptr));
  g->closed = true;
  return wrap_graph(g);
  RJ_CATCH
  return R_NilValue;
}

// One pass by name ("dce", "simplify", "optimize"): lets tests compare the
// program before and after simplification.
SEXP rjc_graph_pass(SEXP gptr, SEXP name) {
  RJ_TRY
  std::string p = str_arg(name);
  const Graph& g = *get_graph(gptr);
  GraphPtr r = p == "dce" ? dce(g) : p == "simplify" ? simplify(g) : p == "optimize" ? optimize(g) : nullptr;
  if (!r) fail("internal", "unknown pass '" + p + "'");
  r->closed = true;
  return wrap_graph(r);
  RJ_CATCH
  return R_NilValue;
}

// Records a call of a custom_vjp function in the innermost open trace among
// `args`: a custom_vjp_call node owning the traced graphs of f, fwd and bwd
// (see src/prims/custom.cpp). Returns a list with the result's tracer.
static SEXP custom_vjp_call_impl(SEXP fptr, SEXP fwdptr, SEXP bwdptr, SEXP args) {
  RJ_TRY
  Ctx c;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) consider(c, VECTOR_ELT(args, i));
  if (!c.g) fail("internal", "custom_vjp_call outside a trace");
  Builder b(*c.g);
  std::vector<int> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) in.push_back(to_node(b, VECTOR_ELT(args, i)));
  int id = build_custom_vjp(*c.g, get_graph(fptr), get_graph(fwdptr), get_graph(bwdptr), in);
  Graph unused;
  return results_to_r(c, unused, {id});
  RJ_CATCH
  return R_NilValue;
}

// Runs custom_vjp_call_impl; then the warnings its kernels raised become R warnings.
SEXP rjc_custom_vjp_call(SEXP fptr, SEXP fwdptr, SEXP bwdptr, SEXP args) {
  rj_clear_warnings();
  return rj_emit_warnings(custom_vjp_call_impl(fptr, fwdptr, bwdptr, args));
}

// Records a control-flow node (op "scan", "while" or "cond"; layouts in
// src/prims/control.h) in the open trace `target` (the innermost one: the
// loop is called there). `graphs` are the traced bodies, `args` the
// explicit inputs ([init, xs] / [init] / [pred, operands]), `ints` for scan
// {length, reverse}. The values the bodies captured from enclosing traces
// become the node's loop-invariant inputs, and the bodies self-contained
// (captures turned into params), so that transforms and executors never see
// a capture inside a node. Returns the tracers of the node's outputs.
static SEXP control_impl(SEXP target, SEXP op, SEXP graphs, SEXP args, SEXP ints) {
  RJ_TRY
  Ctx c;
  c.g = get_graph(target);
  c.gptr = target;
  std::vector<GraphPtr> bodies;
  for (R_xlen_t k = 0; k < Rf_xlength(graphs); ++k) bodies.push_back(get_graph(VECTOR_ELT(graphs, k)));
  Builder b(*c.g);
  std::vector<int> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) in.push_back(to_node(b, VECTOR_ELT(args, i)));
  const std::string name = str_arg(op);
  std::vector<int64_t> iv;
  if (name == "scan") iv = {(int64_t)INTEGER(ints)[0], (int64_t)INTEGER(ints)[1], (int64_t)INTEGER(ints)[2]};
  auto ids = build_control(*c.g, name, bodies, in, iv);
  Graph unused;
  return results_to_r(c, unused, ids);
  RJ_CATCH
  return R_NilValue;
}

// Runs control_impl; then the warnings its kernels raised become R warnings.
SEXP rjc_control(SEXP target, SEXP op, SEXP graphs, SEXP args, SEXP ints) {
  rj_clear_warnings();
  return rj_emit_warnings(control_impl(target, op, graphs, args, ints));
}

SEXP rjc_graph_vjp(SEXP gptr, SEXP wrt) {
  RJ_TRY
  std::vector<int> w;
  for (int i = 0; i < Rf_length(wrt); ++i) w.push_back(INTEGER(wrt)[i]);
  GraphPtr g = vjp(*get_graph(gptr), w);
  g->closed = true;
  return wrap_graph(g);
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_graph_print(SEXP gptr) {
  RJ_TRY
  return r_string(print_graph(*get_graph(gptr)).c_str());
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_graph_verify(SEXP gptr) {
  RJ_TRY
  verify(*get_graph(gptr));
  return r_lgl(TRUE);
  RJ_CATCH
  return R_NilValue;
}

// list(n_ops, n_captures, out_dtypes, out_shapes, out_weak)
SEXP rjc_graph_info(SEXP gptr) {
  RJ_TRY
  GraphPtr g = get_graph(gptr);
  int param_id = prim_id("param"), const_id = prim_id("const");
  int n_ops = 0;
  for (auto& n : g->nodes) n_ops += n.prim != param_id && n.prim != const_id;
  SEXP out = PROTECT(r_alloc(VECSXP, 5));
  SET_VECTOR_ELT(out, 0, r_int(n_ops));
  SET_VECTOR_ELT(out, 1, r_int((int)g->captures.size()));
  SEXP dts = PROTECT(r_alloc(STRSXP, (R_xlen_t)g->outputs.size()));
  SEXP shs = PROTECT(r_alloc(VECSXP, (R_xlen_t)g->outputs.size()));
  for (size_t i = 0; i < g->outputs.size(); ++i) {
    const Type& t = g->type(g->outputs[i]);
    SET_STRING_ELT(dts, i, r_char(dtype_name(t.dtype)));
    SEXP s = r_alloc(INTSXP, (R_xlen_t)t.shape.size());
    SET_VECTOR_ELT(shs, i, s);
    for (size_t k = 0; k < t.shape.size(); ++k) INTEGER(s)[k] = (int)t.shape[k];
  }
  SET_VECTOR_ELT(out, 2, dts);
  SET_VECTOR_ELT(out, 3, shs);
  SEXP weak = r_alloc(LGLSXP, (R_xlen_t)g->outputs.size());
  SET_VECTOR_ELT(out, 4, weak);
  for (size_t i = 0; i < g->outputs.size(); ++i) LOGICAL(weak)[i] = g->type(g->outputs[i]).weak;
  SEXP nm = PROTECT(r_alloc(STRSXP, 5));
  const char* names[] = {"n_ops", "n_captures", "out_dtypes", "out_shapes", "out_weak"};
  for (int i = 0; i < 5; ++i) SET_STRING_ELT(nm, i, r_char(names[i]));
  r_set_attrib(out, R_NamesSymbol, nm);
  UNPROTECT(4);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// Labels of the arguments a traced value depends on (for error messages).
// Whether a traced value is weakly typed (it came from plain R numbers).
SEXP rjc_tracer_weak(SEXP tr) {
  RJ_TRY
  return r_lgl(tracer_graph(tr)->type(tracer_id(tr)).weak);
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_tracer_sources(SEXP tr) {
  RJ_TRY
  GraphPtr g = tracer_graph(tr);
  auto ks = param_ancestors(*g, tracer_id(tr));
  auto ins = g->inputs();
  SEXP out = PROTECT(r_alloc(STRSXP, (R_xlen_t)ks.size()));
  for (size_t i = 0; i < ks.size(); ++i) SET_STRING_ELT(out, i, r_char(g->nodes[ins[ks[i]]].label.c_str()));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// Calls a finished graph on R values: inlined into the innermost open trace
// when any argument or captured value is traced, executed otherwise.
static SEXP graph_call_impl(SEXP gptr, SEXP args, SEXP backend) {
  RJ_TRY
  GraphPtr sub = get_graph(gptr);
  if ((size_t)Rf_xlength(args) != sub->params.size()) fail("internal", "graph call: wrong number of arguments");
  Ctx c;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) consider(c, VECTOR_ELT(args, i));
  for (auto& cs : sub->capture_src)
    if (!c.g || cs.outer->level > c.g->level) fail("internal", "graph call: captured value outside the calling trace");
  if (!c.g) {
    std::vector<BufferPtr> in;
    for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) {
      SEXP x = VECTOR_ELT(args, i);
      in.push_back(is_array(x) ? array_buffer(x) : buffer_from_r(x, dtype_name(sub->type(sub->params[i]).dtype)));
    }
    // Optimised first: the graph may hold nodes only the simplifier removes
    // (custom_vjp_call, stop_gradient).
    auto res = compile(optimize(*sub), str_arg(backend))->run(in);
    SEXP out = PROTECT(r_alloc(VECSXP, (R_xlen_t)res.size()));
    for (size_t k = 0; k < res.size(); ++k) SET_VECTOR_ELT(out, k, new_array(res[k]));
    UNPROTECT(1);
    return out;
  }
  Builder b(*c.g);
  std::vector<int> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) in.push_back(to_node(b, VECTOR_ELT(args, i)));
  auto ids = inline_graph(b, *sub, in);
  Graph unused;
  return results_to_r(c, unused, ids);
  RJ_CATCH
  return R_NilValue;
}

// Runs graph_call_impl; then the warnings its kernels raised become R warnings.
SEXP rjc_graph_call(SEXP gptr, SEXP args, SEXP backend) {
  rj_clear_warnings();
  return rj_emit_warnings(graph_call_impl(gptr, args, backend));
}

SEXP rjc_compile(SEXP gptr, SEXP backend) {
  RJ_TRY
  return wrap_exe(compile(get_graph(gptr), str_arg(backend)));
  RJ_CATCH
  return R_NilValue;
}

// Runs an executable on a list of rj_arrays / R data (converted to the
// parameter dtypes); returns a list of rj_arrays.
static SEXP run_impl(SEXP eptr, SEXP args) {
  RJ_TRY
  ExecutablePtr e = get_exe(eptr);
  const Graph& g = *e->graph;
  std::vector<BufferPtr> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) {
    SEXP x = VECTOR_ELT(args, i);
    DType want = g.type(g.params.at(i)).dtype;
    if (is_array(x)) {
      in.push_back(convert_buffer(array_buffer(x), want));
    } else {
      in.push_back(buffer_from_r(x, dtype_name(want)));
    }
  }
  auto res = e->run(in);
  SEXP out = PROTECT(r_alloc(VECSXP, (R_xlen_t)res.size()));
  for (size_t k = 0; k < res.size(); ++k) SET_VECTOR_ELT(out, k, new_array(res[k]));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// Runs run_impl; then the warnings its kernels raised become R warnings.
SEXP rjc_run(SEXP eptr, SEXP args) {
  rj_clear_warnings();
  return rj_emit_warnings(run_impl(eptr, args));
}

SEXP rjc_exe_info(SEXP eptr) {
  RJ_TRY
  ExecutablePtr e = get_exe(eptr);
  SEXP out = PROTECT(r_alloc(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, r_string(e->backend.c_str()));
  SET_VECTOR_ELT(out, 1, wrap_graph(e->graph));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// What the backend made of a compiled program (text; see Executable::describe).
SEXP rjc_exe_describe(SEXP eptr) {
  RJ_TRY
  std::string d = get_exe(eptr)->describe();
  return r_string(d.c_str());
  RJ_CATCH
  return R_NilValue;
}

}  // extern "C"
