// The program format: lossless round trips (bytes, types, weak flags,
// constants with NA payloads, attributes, sub-graphs), clear errors for
// bad files, and a fuzz test (byte flips, truncations, re-checksummed
// edits) that must only ever give Error("format").
#include <cstring>
#include <random>

#include "ir/serialize.h"
#include "prims/control.h"
#include "test.h"
#include "transforms/passes.h"
#include "util.h"

using namespace rj;

namespace {

// A scan whose body is carry' = carry + x * k, y = carry * x (k a loop constant).
GraphPtr scan_graph() {
  auto body = std::make_shared<Graph>();
  {
    Builder bb(*body);
    int c = body->add_param(Type{DType::f64, {2}}, "c");
    int x = body->add_param(Type{DType::f64, {2}}, "x");
    int k = body->add_param(Type{DType::f64, {}}, "k");
    body->outputs = {bb.add(c, bb.mul(x, k)), bb.mul(c, x)};
    body->closed = true;
  }
  auto g = std::make_shared<Graph>();
  Builder b(*g);
  int init = g->add_param(Type{DType::f64, {2}}, "init");
  int xs = g->add_param(Type{DType::f64, {2, 5}}, "xs");
  int k = b.constant(scalar_buffer(DType::f64, 0.5));
  Attrs a;
  a.ints = {5, 1, 1, 0};
  auto outs = b.emit_tuple("scan", {init, xs, k}, {body}, a, {Type{DType::f64, {2}}, Type{DType::f64, {2, 5}}});
  g->outputs = outs;
  return g;
}

// Everything the format must keep: NA payloads, weak constants, index lists, labels.
GraphPtr rich_graph() {
  auto g = rjt::sample_graph(DType::f64, 3, 4);
  Builder b(*g);
  auto cb = rjt::vec(DType::f64, {3}, {1.5, 0, -2});
  cb->as<double>()[1] = na_real();
  int c = b.constant(cb, false);
  int w = b.constant(rjt::vec(DType::i32, {2}, {kNAInt, 7}), true);
  Attrs idx;
  idx.lists = {{0, 2}, {1, 3}};
  int ix = b.emit("gather", {g->params[0]}, idx);
  g->outputs.push_back(c);
  g->outputs.push_back(w);
  g->outputs.push_back(ix);
  return g;
}

// A gradient program as jit(grad(...)) makes it: the VJP of a scalar loss
// over the scan (reverse scan of the body's VJP), optimised.
GraphPtr scan_grad_graph() {
  auto g = scan_graph();
  Builder b(*g);
  int loss = b.add(b.sum(g->outputs[1], {0, 1}), b.sum(g->outputs[0], {0}));
  g->outputs = {loss};
  return optimize(*vjp(*g, {0, 1}));
}

Program roundtrip(const GraphPtr& g) {
  Program p;
  p.graph = g;
  p.meta["out_tree"] = std::string("\x00\x01\x02 binary", 10);
  return parse_program(serialize_program(p));
}

bool same_bytes(const Buffer& a, const Buffer& b) {
  return a.dtype == b.dtype && a.shape == b.shape && std::memcmp(a.data, b.data, a.nbytes()) == 0;
}

// Rewrites the checksum of a program so that an edit reaches the parser.
void fix_checksum(std::string& s) {
  uint32_t vlen;
  std::memcpy(&vlen, s.data() + 12, 4);
  size_t at = 16 + vlen;
  if (s.size() < at + 16) return;
  uint64_t len = s.size() - at - 16;
  std::memcpy(&s[at], &len, 8);
  uint64_t sum = fnv1a64(s.data() + at + 16, len);
  std::memcpy(&s[at + 8], &sum, 8);
}

}  // namespace

TEST(format_roundtrip_lossless) {
  for (auto g : {rich_graph(), scan_graph(), optimize(*rich_graph()), scan_grad_graph()}) {
    Program p;
    p.graph = g;
    p.meta["k"] = "v";
    std::string s1 = serialize_program(p);
    Program q = parse_program(s1);
    CHECK_EQ(serialize_program(q), s1);  // byte-identical re-serialisation
    CHECK_EQ(q.meta.at("k"), std::string("v"));
    CHECK_EQ(q.graph->nodes.size(), g->nodes.size());
    bool types = true, vals = true;
    for (size_t v = 0; v < g->nodes.size(); ++v) {
      const Node &a = g->nodes[v], &b = q.graph->nodes[v];
      types = types && a.type.same(b.type) && a.type.weak == b.type.weak && a.prim == b.prim && a.in == b.in &&
              a.attrs == b.attrs && a.label == b.label && a.sub.size() == b.sub.size();
      if (a.value) vals = vals && b.value && same_bytes(*a.value, *b.value);
    }
    CHECK(types);
    CHECK(vals);
    CHECK_EQ(print_graph(*q.graph), print_graph(*g));
  }
  Program r = roundtrip(rich_graph());
  CHECK_EQ(r.meta.at("out_tree").size(), (size_t)10);
  const Node& c = r.graph->nodes[r.graph->outputs[2]];
  CHECK(is_na_real(c.value->as<double>()[1]));
  CHECK(r.graph->nodes[r.graph->outputs[3]].type.weak);
  CHECK_EQ(r.graph->nodes[r.graph->params[1]].label, std::string("params$y"));
}

TEST(format_roundtrip_runs_the_same) {
  auto g = optimize(*scan_graph());
  auto q = roundtrip(g).graph;
  auto init = rjt::vec(DType::f64, {2}, {1, 2});
  auto xs = rjt::vec(DType::f64, {2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  for (const char* be : {"interp", "llvm"}) {
    auto a = compile(g, be)->run({init, xs});
    auto b = compile(q, be)->run({init, xs});
    CHECK(same_bytes(*a[0], *b[0]));
    CHECK(same_bytes(*a[1], *b[1]));
    CHECK_EQ(a[0]->as<double>()[0], 1 + 0.5 * (1 + 3 + 5 + 7 + 9));
  }
  auto gg = scan_grad_graph();
  auto gq = roundtrip(gg).graph;
  for (const char* be : {"interp", "llvm"}) {
    auto a = compile(gg, be)->run({init, xs});
    auto b = compile(gq, be)->run({init, xs});
    CHECK_EQ(a.size(), (size_t)3);
    bool same = true;
    for (size_t k = 0; k < a.size(); ++k) same = same && same_bytes(*a[k], *b[k]);
    CHECK(same);
  }
}

TEST(format_bad_files) {
  Program p;
  p.graph = rich_graph();
  const std::string s = serialize_program(p);
  CHECK_THROWS_MSG(parse_program(""), "format", "not an rjax program");
  CHECK_THROWS_MSG(parse_program("hello world, not a program"), "format", "not an rjax program");
  CHECK_THROWS_MSG(parse_program(s.substr(0, s.size() - 1)), "format", "truncated");
  CHECK_THROWS_MSG(parse_program(s.substr(0, 20)), "format", "truncated");
  CHECK_THROWS_MSG(parse_program(s + "x"), "format", "unexpected bytes");
  std::string v = s;
  v[8] = 9;  // format version 9
  CHECK_THROWS_MSG(parse_program(v), "format", "format version 9");
  std::string f = s;
  f[f.size() - 3] ^= 0x10;
  CHECK_THROWS_MSG(parse_program(f), "format", "checksum");
  CHECK_THROWS_MSG(load_program("/nonexistent/dir/x.rjax"), "io", "cannot read");
}

TEST(format_ill_typed_edits) {
  // Hand edits with a valid checksum: the parser re-infers every type.
#define check_edit(g, part)                               \
  do {                                                    \
    Program p;                                            \
    p.graph = g;                                          \
    CHECK_THROWS_MSG(parse_program(serialize_program(p)), "format", part); \
  } while (0)
  auto g1 = rich_graph();
  g1->nodes[g1->outputs[0]].type.dtype = DType::f32;
  check_edit(g1, "has type");
  auto g2 = rich_graph();
  g2->nodes[g2->outputs[0]].type.weak = true;
  check_edit(g2, "weak");
  auto g3 = rich_graph();
  g3->nodes[g3->outputs[1]].in = {g3->params[0], g3->params[0]};  // x %*% t(x) is fine: 3x3 ...
  g3->nodes[g3->outputs[1]].attrs.ints = {0, 0};                  // ... but x %*% x is not
  check_edit(g3, "invalid program");
  auto g4 = scan_graph();
  g4->nodes[g4->outputs[0]].in[0] = g4->params[1];  // a tuple_get reading a non-tuple
  check_edit(g4, "tuple");
  auto g5 = scan_graph();
  for (auto& n : g5->nodes)
    if (n.is_tuple()) n.attrs.ints[0] = 4;  // scan length 4 over xs of length 5
  check_edit(g5, "length");
  auto g6 = scan_graph();
  for (auto& n : g6->nodes)
    if (n.is_tuple()) n.sub[0]->nodes[n.sub[0]->outputs[1]].type.shape = {3};
  check_edit(g6, "has type");
}

TEST(format_fuzz) {
  // Real programs, damaged at random: every outcome is a parsed program or
  // Error("format"); a crash fails the whole run.
  std::mt19937_64 rng(12345);
  long errors = 0, parsed = 0, other = 0;
  bool reported = false;
  std::vector<std::string> files;
  for (auto g : {rich_graph(), scan_graph(), optimize(*scan_graph()), scan_grad_graph()}) {
    Program p;
    p.graph = g;
    files.push_back(serialize_program(p));
  }
  for (int iter = 0; iter < 4000; ++iter) {
    std::string s = files[iter % files.size()];
    const int mode = iter % 3;
    if (mode == 0) {  // truncation
      s.resize(rng() % s.size());
    } else {  // 1..4 byte flips, half of them re-checksummed to reach the parser
      int nflip = 1 + (int)(rng() % 4);
      for (int k = 0; k < nflip; ++k) s[rng() % s.size()] ^= (char)(1u << (rng() % 8));
      if (mode == 2) fix_checksum(s);
    }
    try {
      Program q = parse_program(s);
      ++parsed;  // a flip that keeps the program valid (a constant's bits, a label)
      verify(*q.graph);
    } catch (Error& e) {
      if (e.kind == "format") ++errors;
      else {
        ++other;
        std::cout << "fuzz: " << e.kind << ": " << e.what() << "\n";
      }
    } catch (...) {
      ++other;
    }
    if (other && !reported) {
      reported = true;
      std::cout << "fuzz case " << iter << " (mode " << mode << ") escaped\n";
    }
  }
  CHECK_EQ(other, 0L);
  CHECK(errors > 2500);
  CHECK_EQ(errors + parsed, 4000L);
}

#include "runtime/npy.h"

TEST(npy_roundtrip_and_errors) {
  auto a = rjt::vec(DType::f64, {2, 3}, {1, 2, 3, 4, 5, 6});
  a->as<double>()[4] = na_real();
  auto b = npy_decode(npy_encode(*a), "a");
  CHECK(same_bytes(*a, *b));
  for (DType d : {DType::f32, DType::i32, DType::b8}) {
    auto x = rjt::vec(d, {4}, {1, 0, 1, 1});
    CHECK(same_bytes(*x, *npy_decode(npy_encode(*x), "x")));
  }
  auto s = rjt::vec(DType::f64, {}, {3.5});
  CHECK(same_bytes(*s, *npy_decode(npy_encode(*s), "s")));
  // C-order data (what numpy writes by default) becomes column-major.
  std::string h = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
  h.append(64 - (10 + h.size() + 1) % 64, ' ');
  h += '\n';
  std::string c("\x93NUMPY\x01\x00", 8);
  uint16_t hl = (uint16_t)h.size();
  c.append(reinterpret_cast<const char*>(&hl), 2);
  c += h;
  int32_t rows[6] = {1, 2, 3, 4, 5, 6};  // [[1,2,3],[4,5,6]]
  c.append(reinterpret_cast<const char*>(rows), 24);
  auto m = npy_decode(c, "c");
  CHECK_EQ(m->as<int32_t>()[1], 4);  // R: m[2,1] == 4
  CHECK_EQ(m->as<int32_t>()[2], 2);  // R: m[1,2] == 2
  CHECK_THROWS_MSG(npy_decode(c.substr(0, c.size() - 4), "c"), "format", "data bytes");
  CHECK_THROWS_MSG(npy_decode("junk", "j"), "format", "not a .npy");
}
