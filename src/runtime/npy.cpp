// .npy reading and writing (see npy.h).
#include "npy.h"

#include <cstring>

#include "../ir/serialize.h"

namespace rj {

namespace {

const char* descr(DType d) {
  switch (d) {
    case DType::f64: return "<f8";
    case DType::f32: return "<f4";
    case DType::i32: return "<i4";
    case DType::b8: return "|b1";
  }
  return "?";
}

[[noreturn]] void bad(const std::string& what, const std::string& msg) { fail("format", what + ": " + msg); }

// The value of 'key' in the header dict (a Python literal), as text.
std::string dict_value(const std::string& h, const std::string& key, const std::string& what) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) bad(what, "the .npy header has no '" + key + "'");
  size_t c = h.find(':', k);
  if (c == std::string::npos) bad(what, "malformed .npy header");
  size_t s = h.find_first_not_of(' ', c + 1);
  if (s == std::string::npos) bad(what, "malformed .npy header");
  size_t e;
  if (h[s] == '(') e = h.find(')', s) + 1;
  else if (h[s] == '\'') e = h.find('\'', s + 1) + 1;
  else e = h.find_first_of(",}", s);
  if (e == std::string::npos || e == 0 || e <= s) bad(what, "malformed .npy header");
  return h.substr(s, e - s);
}

}  // namespace

std::string npy_encode(const Buffer& b) {
  std::string shape = "(";
  for (size_t i = 0; i < b.shape.size(); ++i) shape += std::to_string(b.shape[i]) + (b.shape.size() == 1 ? "," : (i + 1 < b.shape.size() ? ", " : ""));
  shape += ")";
  std::string h = std::string("{'descr': '") + descr(b.dtype) + "', 'fortran_order': True, 'shape': " + shape + ", }";
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  uint16_t hl = (uint16_t)h.size();
  out.append(reinterpret_cast<const char*>(&hl), 2);
  out += h;
  out.append(static_cast<const char*>(b.data), b.nbytes());
  return out;
}

BufferPtr npy_decode(const std::string& s, const std::string& what) {
  if (s.size() < 10 || std::memcmp(s.data(), "\x93NUMPY", 6) != 0) bad(what, "not a .npy file (no \\x93NUMPY magic)");
  const int major = (unsigned char)s[6];
  size_t hlen, off;
  if (major == 1) {
    uint16_t l;
    std::memcpy(&l, s.data() + 8, 2);
    hlen = l;
    off = 10;
  } else if (major == 2 || major == 3) {
    if (s.size() < 12) bad(what, "truncated .npy header");
    uint32_t l;
    std::memcpy(&l, s.data() + 8, 4);
    hlen = l;
    off = 12;
  } else {
    bad(what, ".npy format version " + std::to_string(major) + " is not supported");
  }
  if (off + hlen > s.size()) bad(what, "truncated .npy header");
  const std::string h = s.substr(off, hlen);
  std::string d = dict_value(h, "descr", what);
  DType dt;
  if (d == "'<f8'") dt = DType::f64;
  else if (d == "'<f4'") dt = DType::f32;
  else if (d == "'<i4'") dt = DType::i32;
  else if (d == "'|b1'" || d == "'|u1'") dt = DType::b8;
  else bad(what, "dtype " + d + " is not supported: use float64 (<f8), float32 (<f4), int32 (<i4) or bool");
  const bool fortran = dict_value(h, "fortran_order", what) == "True";
  std::string sh = dict_value(h, "shape", what);
  Shape shape;
  for (size_t i = 1; i + 1 < sh.size();) {
    size_t j = sh.find_first_of(",)", i);
    std::string tok = sh.substr(i, j - i);
    size_t a = tok.find_first_not_of(' ');
    if (a != std::string::npos) {
      char* end = nullptr;
      long long v = std::strtoll(tok.c_str() + a, &end, 10);
      if (v < 0 || (end && *end && *end != ' ')) bad(what, "bad shape " + sh);
      shape.push_back(v);
    }
    if (j == std::string::npos) break;
    i = j + 1;
  }
  const size_t n = (size_t)shape_size(shape) * dtype_size(dt);
  if (s.size() - off - hlen != n)
    bad(what, "holds " + std::to_string(s.size() - off - hlen) + " data bytes, its header " + Type{dt, shape}.str() + " needs " + std::to_string(n));
  auto b = make_buffer(dt, shape);
  const char* src = s.data() + off + hlen;
  if (fortran || shape.size() < 2) {
    std::memcpy(b->data, src, n);
  } else {  // C order: element (i0, ..., ik) at row-major offset
    const size_t es = dtype_size(dt);
    const int r = (int)shape.size();
    std::vector<int64_t> idx(r, 0);
    for (int64_t k = 0; k < b->size(); ++k) {  // k: column-major offset
      int64_t c = 0;
      for (int a = 0; a < r; ++a) c = c * shape[a] + idx[a];
      std::memcpy(static_cast<char*>(b->data) + k * es, src + c * es, es);
      for (int a = 0; a < r; ++a) {
        if (++idx[a] < shape[a]) break;
        idx[a] = 0;
      }
    }
  }
  return b;
}

void npy_save(const Buffer& b, const std::string& path) { write_file_bytes(path, npy_encode(b)); }

BufferPtr npy_load(const std::string& path) { return npy_decode(read_file_bytes(path), path); }

}  // namespace rj
