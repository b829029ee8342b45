// Building kernel descriptions from fused groups, and the list of what the
// code generator supports (which decides what the LLVM backend fuses).
#include "kernel_spec.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <unordered_set>

namespace rj {

static const std::unordered_set<std::string>& float_unary() {
  static const std::unordered_set<std::string> s = {
      "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
      "tanh", "asinh", "acosh", "atanh", "lgamma", "gamma", "digamma", "trigamma", "floor", "ceiling", "round", "trunc"};
  return s;
}

static bool numeric_ops(const std::string& p) {  // arithmetic that needs a number type (not bool)
  static const std::unordered_set<std::string> s = {"neg", "abs", "sign", "add", "sub", "mul", "div",
                                                     "pow", "max", "min", "mod", "idiv", "atan2"};
  return s.count(p) > 0;
}

static bool logical_ops(const std::string& p) {
  static const std::unordered_set<std::string> s = {"not", "is_nan", "is_finite", "convert", "eq", "ne", "lt",
                                                     "le", "gt", "ge", "and", "or", "select"};
  return s.count(p) > 0;
}

bool kernel_supports(const Graph& g, int v) {
  const Node& n = g.nodes[v];
  const PrimDef& p = prim(n.prim);
  if (p.elementwise) {
    if (float_unary().count(p.name)) return is_float(n.type.dtype);
    DType d = n.in.empty() ? n.type.dtype : g.type(n.in.back()).dtype;
    if (numeric_ops(p.name)) return d != DType::b8;
    return logical_ops(p.name);
  }
  if (p.name == "reshape") return dom2(n.type.shape) == dom2(g.type(n.in[0]).shape) || n.type.size() == 1;
  if (p.name == "broadcast") {
    const Type& t = g.type(n.in[0]);
    return t.size() == 1 || operand_map(g, v, n.in[0]) != IndexMap::linear;
  }
  return reduction_kind(g, v) != RedKind::none;
}

KernelSpec make_spec(const Graph& g, const FusedKernel& K) {
  KernelSpec s;
  s.red = K.red;
  std::vector<int> op_of(g.nodes.size(), -1);
  for (size_t m = 0; m < K.members.size(); ++m) op_of[K.members[m]] = (int)m;
  for (int u : K.inputs) s.input_dtypes.push_back(g.type(u).dtype);
  for (int v : K.members) {
    const Node& n = g.nodes[v];
    KOp op;
    op.prim = prim(n.prim).name;
    op.dtype = n.type.dtype;
    for (int u : n.in) {
      KRef r;
      const Node& un = g.nodes[u];
      if (op_of[u] >= 0) {
        r.kind = KRef::op;
        r.index = op_of[u];
      } else if (un.value && un.value->size() == 1) {
        r.kind = KRef::imm;
        r.value = un.value->get(0);
      } else {
        r.kind = KRef::input;
        r.index = (int)(std::find(K.inputs.begin(), K.inputs.end(), u) - K.inputs.begin());
        r.map = operand_map(g, v, u);
      }
      op.args.push_back(r);
      op.arg_dtypes.push_back(g.type(u).dtype);
    }
    if (reduction_kind(g, v) == RedKind::all) op.red_slot = s.n_red_all++;
    s.ops.push_back(std::move(op));
  }
  for (int o : K.outputs) s.outputs.push_back(op_of[o]);
  return s;
}

std::string KernelSpec::key() const {
  static const char* maps = "lscr";
  std::ostringstream os;
  os << "red" << (int)red << "|in";
  for (DType d : input_dtypes) os << ' ' << dtype_name(d);
  os << "|";
  for (const KOp& op : ops) {
    os << op.prim << ':' << dtype_name(op.dtype) << '(';
    for (size_t a = 0; a < op.args.size(); ++a) {
      const KRef& r = op.args[a];
      os << (a ? "," : "") << dtype_name(op.arg_dtypes[a]);
      if (r.kind == KRef::op) os << "%" << r.index;
      else if (r.kind == KRef::input) os << "$" << r.index << maps[(int)r.map];
      else {
        uint64_t bits;
        std::memcpy(&bits, &r.value, 8);
        os << "#" << std::hex << bits << std::dec;
      }
    }
    os << ");";
  }
  os << "|out";
  for (int o : outputs) os << ' ' << o;
  return os.str();
}

}  // namespace rj
