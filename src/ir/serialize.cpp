// The program format (layout in serialize.h): writer, bounds-checked
// reader, strict verification.
#include "serialize.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "../prims/control.h"
#include "version.h"

namespace rj {

uint64_t fnv1a64(const void* data, size_t n, uint64_t h) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

namespace {

const char kMagic[8] = {'R', 'J', 'A', 'X', 'P', 'R', 'O', 'G'};
constexpr int kMaxDepth = 64;  // nesting of sub-graphs a file may have

[[noreturn]] void bad(const std::string& msg) { fail("format", msg); }

// ---- writer ------------------------------------------------------------------

struct Writer {
  std::string out;
  void raw(const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
  void u8(uint8_t v) { raw(&v, 1); }
  void u32(uint32_t v) { raw(&v, 4); }  // x86-64 / aarch64: little-endian
  void i32(int32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u32((uint32_t)s.size());
    raw(s.data(), s.size());
  }
  void ivec(const std::vector<int64_t>& v) {
    u32((uint32_t)v.size());
    for (auto x : v) i64(x);
  }
  void ids(const std::vector<int>& v) {
    u32((uint32_t)v.size());
    for (auto x : v) i32(x);
  }
  void type(const Type& t) {
    u8((uint8_t)t.dtype);
    ivec(t.shape);
    u8(t.weak ? 1 : 0);
  }
  void attrs(const Attrs& a) {
    ivec(a.ints);
    u32((uint32_t)a.lists.size());
    for (auto& l : a.lists) ivec(l);
    ivec(a.shape);
    u8((uint8_t)a.dtype);
    f64(a.scalar);
  }
  void graph(const Graph& g) {
    if (!g.capture_src.empty() && g.captures.size() != g.capture_src.size()) fail("internal", "inconsistent captures");
    u32((uint32_t)g.nodes.size());
    for (const Node& n : g.nodes) {
      str(prim(n.prim).name);
      ids(n.in);
      attrs(n.attrs);
      type(n.type);
      str(n.label);
      u8(n.value ? 1 : 0);
      if (n.value) {
        u8((uint8_t)n.value->dtype);
        ivec(n.value->shape);
        u64(n.value->nbytes());
        raw(n.value->data, n.value->nbytes());
      }
      u32((uint32_t)n.sub.size());
      for (auto& s : n.sub) graph(*s);
      u32((uint32_t)n.outs.size());
      for (auto& t : n.outs) type(t);
    }
    ids(g.params);
    ids(g.captures);
    ids(g.outputs);
    i32(g.level);
  }
};

// ---- reader ------------------------------------------------------------------

struct Reader {
  const char* p;
  const char* end;
  size_t left() const { return (size_t)(end - p); }
  void need(size_t n, const char* what) {
    if (n > left()) bad(std::string("the program is truncated (while reading ") + what + ")");
  }
  void raw(void* dst, size_t n, const char* what) {
    need(n, what);
    std::memcpy(dst, p, n);
    p += n;
  }
  uint8_t u8(const char* w) { uint8_t v; raw(&v, 1, w); return v; }
  uint32_t u32(const char* w) { uint32_t v; raw(&v, 4, w); return v; }
  int32_t i32(const char* w) { int32_t v; raw(&v, 4, w); return v; }
  uint64_t u64(const char* w) { uint64_t v; raw(&v, 8, w); return v; }
  int64_t i64(const char* w) { int64_t v; raw(&v, 8, w); return v; }
  double f64(const char* w) { double v; raw(&v, 8, w); return v; }
  // A count of items of at least `min_size` bytes each: never more than fit.
  uint32_t count(size_t min_size, const char* w) {
    uint32_t n = u32(w);
    if ((size_t)n * min_size > left()) bad(std::string("the program is truncated or corrupt (") + w + " count " + std::to_string(n) + ")");
    return n;
  }
  std::string str(const char* w) {
    uint32_t n = count(1, w);
    std::string s(p, n);
    p += n;
    return s;
  }
  std::vector<int64_t> ivec(const char* w) {
    uint32_t n = count(8, w);
    std::vector<int64_t> v(n);
    for (auto& x : v) x = i64(w);
    return v;
  }
  std::vector<int> ids(const char* w) {
    uint32_t n = count(4, w);
    std::vector<int> v(n);
    for (auto& x : v) x = i32(w);
    return v;
  }
  DType dtype(const char* w) {
    uint8_t d = u8(w);
    if (d > (uint8_t)DType::b8) bad(std::string("unknown dtype code ") + std::to_string(d) + " (" + w + ")");
    return (DType)d;
  }
  Shape shape(const char* w) {
    Shape s = ivec(w);
    for (auto d : s)
      if (d < 0) bad(std::string("negative dimension in a shape (") + w + ")");
    shape_size(s);  // throws when the element count overflows
    return s;
  }
  Type type(const char* w) {
    Type t;
    t.dtype = dtype(w);
    t.shape = shape(w);
    uint8_t weak = u8(w);
    if (weak > 1) bad(std::string("bad weak flag (") + w + ")");
    t.weak = weak != 0;
    return t;
  }
  Attrs attrs() {
    Attrs a;
    a.ints = ivec("attribute ints");
    uint32_t nl = count(4, "attribute lists");
    for (uint32_t k = 0; k < nl; ++k) a.lists.push_back(ivec("attribute list"));
    a.shape = shape("attribute shape");
    a.dtype = dtype("attribute dtype");
    a.scalar = f64("attribute scalar");
    return a;
  }
  GraphPtr graph(int depth) {
    if (depth > kMaxDepth) bad("sub-graphs nested deeper than " + std::to_string(kMaxDepth));
    auto g = std::make_shared<Graph>();
    uint32_t nn = count(16, "nodes");
    g->nodes.reserve(nn);
    for (uint32_t v = 0; v < nn; ++v) {
      Node n;
      std::string name = str("primitive name");
      try {
        n.prim = prim_id(name);
      } catch (Error&) {
        bad("node " + std::to_string(v) + " uses the primitive '" + name +
            "', which this rjax does not have (exported by a newer rjax?)");
      }
      n.in = ids("node inputs");
      n.attrs = attrs();
      n.type = type("node type");
      n.label = str("node label");
      uint8_t has = u8("constant flag");
      if (has > 1) bad("bad constant flag at node " + std::to_string(v));
      if (has) {
        DType d = dtype("constant dtype");
        Shape s = shape("constant shape");
        uint64_t nb = u64("constant size");
        if (nb != (uint64_t)shape_size(s) * dtype_size(d))
          bad("node " + std::to_string(v) + ": constant of " + Type{d, s}.str() + " has " + std::to_string(nb) + " bytes");
        need(nb, "constant bytes");
        auto buf = make_buffer(d, s);
        raw(buf->data, nb, "constant bytes");
        n.value = buf;
      }
      uint32_t ns = count(16, "sub-graphs");
      for (uint32_t k = 0; k < ns; ++k) n.sub.push_back(graph(depth + 1));
      uint32_t no = count(6, "tuple outputs");
      for (uint32_t k = 0; k < no; ++k) n.outs.push_back(type("tuple output type"));
      g->nodes.push_back(std::move(n));
    }
    g->params = ids("params");
    g->captures = ids("captures");
    g->outputs = ids("outputs");
    g->level = i32("level");
    g->closed = true;
    // Captures of a loaded graph come from no enclosing trace.
    g->capture_src.assign(g->captures.size(), Capture{nullptr, -1});
    return g;
  }
};

std::string where(const Graph&, size_t v, const Node& n) {
  return "node " + std::to_string(v) + " (" + prim(n.prim).name + ")";
}

void check_same(const Type& got, const Type& want, const std::string& what, const std::string& kind) {
  if (!got.same(want)) fail(kind, what + " has type " + got.str() + " but should be " + want.str());
}

std::vector<Type> out_types(const Graph& g) {
  std::vector<Type> r;
  for (int o : g.outputs) r.push_back(g.type(o));
  return r;
}
std::vector<Type> in_types(const Graph& g) {
  std::vector<Type> r;
  for (int o : g.params) r.push_back(g.type(o));
  return r;
}

// Sub-graph `s` takes `ins` and returns `outs` (dtypes and shapes).
void check_sub(const Graph& s, const std::vector<Type>& ins, const std::vector<Type>& outs, const std::string& what,
               const std::string& kind) {
  if (!s.captures.empty()) fail(kind, what + " has implicit inputs (captures); control-flow bodies must not");
  if (s.params.size() != ins.size())
    fail(kind, what + " takes " + std::to_string(s.params.size()) + " inputs, the node gives it " + std::to_string(ins.size()));
  if (s.outputs.size() != outs.size())
    fail(kind, what + " returns " + std::to_string(s.outputs.size()) + " values, the node expects " + std::to_string(outs.size()));
  auto it = in_types(s), ot = out_types(s);
  for (size_t k = 0; k < ins.size(); ++k) check_same(it[k], ins[k], what + " input " + std::to_string(k + 1), kind);
  for (size_t k = 0; k < outs.size(); ++k) check_same(ot[k], outs[k], what + " output " + std::to_string(k + 1), kind);
}

std::vector<Type> slice(const std::vector<Type>& v, size_t from, size_t n) {
  return std::vector<Type>(v.begin() + from, v.begin() + from + n);
}
std::vector<Type> cat(std::vector<Type> a, const std::vector<Type>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void check_control(const Node& n, const std::vector<Type>& ins, const std::string& at, const std::string& kind) {
  const std::string& name = prim(n.prim).name;
  auto need_subs = [&](size_t k) {
    if (n.sub.size() != k) fail(kind, at + " needs " + std::to_string(k) + " sub-graphs, has " + std::to_string(n.sub.size()));
    for (auto& s : n.sub)
      if (!s) fail(kind, at + ": missing sub-graph");
  };
  auto need_ints = [&](size_t k) {
    if (n.attrs.ints.size() < k) fail(kind, at + ": missing layout attributes");
    for (size_t i = 0; i < k; ++i)
      if (n.attrs.ints[i] < 0 || n.attrs.ints[i] > (int64_t)1 << 40) fail(kind, at + ": bad layout attribute");
  };
  if (name == "scan") {
    need_subs(1);
    need_ints(4);
    const int64_t len = n.attrs.ints[0];
    const size_t nc = (size_t)n.attrs.ints[1], nx = (size_t)n.attrs.ints[2];
    if (nc + nx > ins.size() || nc > n.outs.size()) fail(kind, at + ": layout does not fit its inputs and outputs");
    const size_t nk = ins.size() - nc - nx, ny = n.outs.size() - nc;
    std::vector<Type> xs;
    for (size_t j = 0; j < nx; ++j) {
      const Type& t = ins[nc + j];
      if (t.shape.empty() || t.shape.back() != len) fail(kind, at + ": scanned input " + std::to_string(j + 1) + " is not of length " + std::to_string(len));
      xs.push_back(slice_type(t));
    }
    std::vector<Type> body_out = slice(ins, 0, nc);
    for (size_t j = 0; j < ny; ++j) body_out.push_back(slice_type(n.outs[nc + j]));
    check_sub(*n.sub[0], cat(cat(slice(ins, 0, nc), xs), slice(ins, nc + nx, nk)), body_out, at + " body", kind);
    for (size_t j = 0; j < nc; ++j) check_same(n.outs[j], ins[j], at + " output " + std::to_string(j + 1), kind);
    for (size_t j = 0; j < ny; ++j)
      if (n.outs[nc + j].shape.back() != len) fail(kind, at + ": stacked output " + std::to_string(j + 1) + " is not of length " + std::to_string(len));
  } else if (name == "while") {
    need_subs(2);
    need_ints(3);
    const size_t nc = (size_t)n.attrs.ints[0], ncc = (size_t)n.attrs.ints[1], ncb = (size_t)n.attrs.ints[2];
    if (nc + ncc + ncb != ins.size() || n.outs.size() != nc) fail(kind, at + ": layout does not fit its inputs and outputs");
    auto carry = slice(ins, 0, nc);
    check_sub(*n.sub[0], cat(carry, slice(ins, nc, ncc)), {Type{DType::b8, {}}}, at + " condition", kind);
    check_sub(*n.sub[1], cat(carry, slice(ins, nc + ncc, ncb)), carry, at + " body", kind);
    for (size_t j = 0; j < nc; ++j) check_same(n.outs[j], ins[j], at + " output " + std::to_string(j + 1), kind);
  } else if (name == "cond") {
    need_subs(2);
    need_ints(3);
    const size_t no = (size_t)n.attrs.ints[0], nt = (size_t)n.attrs.ints[1], nf = (size_t)n.attrs.ints[2];
    if (1 + no + nt + nf != ins.size()) fail(kind, at + ": layout does not fit its inputs");
    check_same(ins[0], Type{DType::b8, {}}, at + " predicate", kind);
    auto ops = slice(ins, 1, no);
    check_sub(*n.sub[0], cat(ops, slice(ins, 1 + no, nt)), n.outs, at + " true branch", kind);
    check_sub(*n.sub[1], cat(ops, slice(ins, 1 + no + nt, nf)), n.outs, at + " false branch", kind);
  } else if (name == "custom_vjp_call") {
    need_subs(3);
    check_sub(*n.sub[0], ins, {n.type}, at + " function", kind);
  } else if (!n.sub.empty()) {
    fail(kind, at + " has sub-graphs but is no control-flow primitive");
  }
  for (auto& s : n.sub) verify_strict(*s, kind);
}

}  // namespace

void verify_strict(const Graph& g, const std::string& kind) {
  const int nn = (int)g.nodes.size();
  const int pid_param = prim_id("param"), pid_const = prim_id("const"), pid_get = prim_id("tuple_get");
  std::vector<char> is_input(nn, 0);
  auto check_id = [&](int v, const std::string& what) {
    if (v < 0 || v >= nn) fail(kind, what + " refers to value " + std::to_string(v) + ", which does not exist");
  };
  for (const auto* list : {&g.params, &g.captures})
    for (int v : *list) {
      check_id(v, "an input");
      if (g.nodes[v].prim != pid_param) fail(kind, "input " + std::to_string(v) + " is not a param node");
      if (is_input[v]) fail(kind, "param node " + std::to_string(v) + " is listed twice as an input");
      is_input[v] = 1;
    }
  for (int v = 0; v < nn; ++v) {
    const Node& n = g.nodes[v];
    const PrimDef& p = prim(n.prim);
    const std::string at = where(g, (size_t)v, n);
    if (n.value && n.prim != pid_const) fail(kind, at + " carries a constant value");
    if (n.prim == pid_param || n.prim == pid_const) {
      if (!n.in.empty() || !n.sub.empty() || n.is_tuple()) fail(kind, at + " has inputs");
      if (n.prim == pid_param && !is_input[v]) fail(kind, at + " is not among the graph's inputs");
      if (n.prim == pid_const) {
        if (!n.value) fail(kind, at + " has no value");
        if (n.value->dtype != n.type.dtype || n.value->shape != n.type.shape)
          fail(kind, at + " has type " + n.type.str() + " but holds " + Type{n.value->dtype, n.value->shape}.str());
      }
      continue;
    }
    if (p.arity >= 0 && (int)n.in.size() != p.arity)
      fail(kind, at + " takes " + std::to_string(p.arity) + " inputs, has " + std::to_string(n.in.size()));
    std::vector<Type> ts;
    bool weak = (int)n.in.size() > p.n_control;
    for (size_t k = 0; k < n.in.size(); ++k) {
      int i = n.in[k];
      if (i < 0 || i >= v) fail(kind, at + " uses a value that is not computed before it");
      if (g.nodes[i].is_tuple() != (n.prim == pid_get))
        fail(kind, at + (n.prim == pid_get ? " reads a node that is not a tuple" : " uses a tuple node as a value"));
      ts.push_back(g.nodes[i].type);
      if ((int)k >= p.n_control) weak = weak && g.nodes[i].type.weak;
    }
    if (n.prim == pid_get) {
      const Node& t = g.nodes[n.in[0]];
      if (n.attrs.ints.size() != 1 || n.attrs.ints[0] < 0 || n.attrs.ints[0] >= (int64_t)t.outs.size())
        fail(kind, at + " reads an output its tuple does not have");
      const Type& want = t.outs[(size_t)n.attrs.ints[0]];
      if (!n.type.same(want) || n.type.weak != want.weak) fail(kind, at + " has type " + n.type.str() + " but the tuple gives " + want.str());
    }
    const bool control = n.is_tuple() || !n.sub.empty();
    Type t = p.infer(ts, n.attrs);
    if (!p.weak_from_infer) t.weak = weak;
    if (control) {
      if (!t.same(n.type)) fail(kind, at + " has type " + n.type.str() + " but its rule gives " + t.str());
      check_control(n, ts, at, kind);
      continue;
    }
    if (!t.same(n.type)) fail(kind, at + " has type " + n.type.str() + " but its inputs give " + t.str());
    if (t.weak != n.type.weak) fail(kind, at + ": weak flag " + std::to_string(n.type.weak) + " disagrees with its inputs");
  }
  for (int o : g.outputs) {
    check_id(o, "an output");
    if (g.nodes[o].is_tuple()) fail(kind, "an output is a tuple node");
  }
}

std::string serialize_program(const Program& p) {
  if (!p.graph) fail("internal", "no graph to serialize");
  Writer body;
  body.u32((uint32_t)p.meta.size());
  for (auto& kv : p.meta) {
    body.str(kv.first);
    body.str(kv.second);
  }
  body.graph(*p.graph);
  Writer w;
  w.raw(kMagic, 8);
  w.u32(kFormatVersion);
  w.str(RJAX_VERSION);
  w.u64(body.out.size());
  w.u64(fnv1a64(body.out.data(), body.out.size()));
  w.out += body.out;
  return w.out;
}

ProgramHeader read_program_header(const std::string& bytes) {
  Reader r{bytes.data(), bytes.data() + bytes.size()};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    bad("not an rjax program file (no RJAXPROG header): was it written by jit_export()?");
  r.p += 8;
  ProgramHeader h;
  h.format_version = r.u32("format version");
  uint32_t n = r.u32("rjax version");
  if (n > 64) bad("corrupt header (rjax version of " + std::to_string(n) + " bytes)");
  r.need(n, "rjax version");
  h.rjax_version.assign(r.p, n);
  return h;
}

Program parse_program(const std::string& bytes) {
  ProgramHeader h = read_program_header(bytes);
  if (h.format_version != kFormatVersion)
    bad("program format version " + std::to_string(h.format_version) + " (written by rjax " + h.rjax_version +
        "); this rjax (" RJAX_VERSION ") reads version " + std::to_string(kFormatVersion) +
        ": export the program again with this rjax");
  Reader r{bytes.data() + 16 + h.rjax_version.size(), bytes.data() + bytes.size()};
  uint64_t len = r.u64("payload length");
  uint64_t sum = r.u64("checksum");
  if (len > r.left()) bad("the program file is truncated: " + std::to_string(r.left()) + " of " + std::to_string(len) + " bytes");
  if (len < r.left()) bad("the program file has " + std::to_string(r.left() - len) + " unexpected bytes at its end");
  if (fnv1a64(r.p, (size_t)len) != sum) bad("the program file is corrupt (checksum mismatch)");
  Program p;
  try {
    uint32_t nm = r.count(8, "meta entries");
    for (uint32_t k = 0; k < nm; ++k) {
      std::string key = r.str("meta key");
      p.meta[key] = r.str("meta value");
    }
    p.graph = r.graph(0);
    if (r.left() != 0) bad("unexpected bytes after the program");
    verify_strict(*p.graph, "format");
  } catch (Error& e) {
    if (e.kind == "format") throw;
    bad(std::string("invalid program: ") + e.what());
  } catch (std::exception& e) {
    bad(std::string("invalid program: ") + e.what());
  }
  return p;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("io", "cannot read '" + path + "': no such file or no permission");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) fail("io", "cannot write '" + path + "'");
  f.write(bytes.data(), (std::streamsize)bytes.size());
  if (!f) fail("io", "cannot write '" + path + "' (disk full?)");
}

void save_program(const Program& p, const std::string& path) { write_file_bytes(path, serialize_program(p)); }

Program load_program(const std::string& path) { return parse_program(read_file_bytes(path)); }

}  // namespace rj
