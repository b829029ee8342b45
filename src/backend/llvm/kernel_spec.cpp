// Building kernel descriptions from fused groups, and the fusion rule (which
// decides what the LLVM backend fuses): read from the primitives' definitions.
#include "kernel_spec.h"

#include "../../ir/scalar.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace rj {

bool kernel_supports(const Graph& g, int v) {
  const Node& n = g.nodes[v];
  const PrimDef& p = prim(n.prim);
  if (p.elementwise) return p.scalar && (p.backends & kBackendLlvm);
  if (p.name == "gather") return slice_read(g, v).offset >= 0;
  if (p.name == "reshape") return dom2(n.type.shape) == dom2(g.type(n.in[0]).shape) || n.type.size() == 1;
  if (p.name == "broadcast") {
    const Type& t = g.type(n.in[0]);
    return t.size() == 1 || operand_map(g, v, n.in[0]) != IndexMap::linear;
  }
  return reduction_kind(g, v) != RedKind::none;
}

namespace {

// Renders a scalar description without emitting anything: counts its ops.
struct CountingBuilder : ScalarBuilder {
  int n = 0, ids = 0;
  SVal fresh(DType d) { return SVal{ids++, d}; }
  SVal constant(double, DType d) override { return fresh(d); }
  SVal basis(SOp o, const SVal*, int, DType result) override {
    switch (o) {
      case SOp::exp: case SOp::log: case SOp::tanh: n += 20; break;
      case SOp::floordiv: case SOp::floormod: n += 12; break;
      default: n += o > SOp::sqrt ? 4 : 1; break;  // past sqrt: calls into the C library
    }
    return fresh(result);
  }
  SVal call_special(const SpecialFn&, const std::vector<SVal>& args) override {
    n += 4;
    return fresh(args.empty() ? DType::f64 : args[0].dtype);
  }
  void warn_if(SVal, uint32_t) override { n += 2; }
};

}  // namespace

int kernel_weight(const Graph& g, int v) {
  const Node& n = g.nodes[v];
  const PrimDef& p = prim(n.prim);
  if (!p.elementwise || !p.scalar) return 1;  // reshape, broadcast: index maps; reductions: one step
  CountingBuilder cb;
  std::vector<SVal> args;
  for (int u : n.in) args.push_back(cb.fresh(g.type(u).dtype));
  p.scalar(cb, args, n.attrs);
  return cb.n;
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
    op.prim = n.prim;
    const SliceRead slice = slice_read(g, v);
    if (slice.offset < 0) op.attrs = n.attrs;  // a slice's index list is its offset below (and its length the domain)
    op.dtype = n.type.dtype;
    for (int u : n.in) {
      KRef r;
      const Node& un = g.nodes[u];
      if (op_of[u] >= 0) {
        r.kind = KRef::op;
        r.index = op_of[u];
      } else if (is_immediate(g, u)) {
        r.kind = KRef::imm;
        r.value = un.value->get(0);
      } else {
        r.kind = KRef::input;
        r.index = (int)(std::find(K.inputs.begin(), K.inputs.end(), u) - K.inputs.begin());
        r.map = operand_map(g, v, u);
        if (slice.offset >= 0) {
          r.offset = slice.offset;
          r.ld = slice.ld;
        }
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

bool is_index_map(const KOp& op) {
  const std::string& name = prim(op.prim).name;
  return name == "reshape" || name == "broadcast" || name == "gather";  // gather: a slice (kernel_supports)
}

std::string KernelSpec::key() const {
  static const char* maps = "lscr";
  std::ostringstream os;
  os << "red" << (int)red << "|in";
  for (DType d : input_dtypes) os << ' ' << dtype_name(d);
  os << "|";
  for (const KOp& op : ops) {
    os << prim(op.prim).name << '[' << op.attrs.key().size() << ':';
    for (unsigned char ch : op.attrs.key()) os << std::hex << (int)ch << std::dec << '.';
    os << "]:" << dtype_name(op.dtype) << '(';
    for (size_t a = 0; a < op.args.size(); ++a) {
      const KRef& r = op.args[a];
      os << (a ? "," : "") << dtype_name(op.arg_dtypes[a]);
      if (r.kind == KRef::op) os << "%" << r.index;
      else if (r.kind == KRef::input) os << "$" << r.index << maps[(int)r.map] << (r.offset ? "+" + std::to_string(r.offset) : "")
                                   << (r.ld ? "*" + std::to_string(r.ld) : "");
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
