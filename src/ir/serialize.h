// The program format: a lossless, versioned binary form of a graph, read by
// jit_import() (R), rjax-run (no R) and the persistent compile cache's keys.
//
// File layout (all integers little-endian):
//   magic          8 bytes "RJAXPROG"
//   format version u32 (kFormatVersion)
//   rjax version   u32 length + bytes (the writer's RJAX_VERSION)
//   payload length u64
//   checksum       u64 FNV-1a 64 of the payload
//   payload        meta (u32 count, then key/value strings), then the graph
// A graph is its nodes in order, then its params, captures, outputs and
// level. A node is its primitive's *name* (ids depend on static
// initialisation order and never leave the process), its inputs, every
// attribute field (the scalar as its 8 bytes), its type with the weak flag,
// its label, its constant's dtype, shape and bytes, its sub-graphs and its
// tuple output types. Strings are u32 length + bytes.
//
// parse_program() checks the header, the checksum and every bound before it
// allocates, then verifies the program: each node's type is re-inferred
// from its inputs and compared (dtype, shape and weak flag), control-flow
// nodes are checked against their sub-graphs. Every problem is an
// Error("format", ...) naming what is wrong; nothing is trusted.
#pragma once
#include <map>
#include <string>

#include "ir.h"

namespace rj {

constexpr uint32_t kFormatVersion = 1;

struct Program {
  GraphPtr graph;
  // Free-form entries the writer wants back (the R glue keeps the input and
  // output tree structure and the signature here; rjax-run ignores them).
  std::map<std::string, std::string> meta;
};

std::string serialize_program(const Program& p);
Program parse_program(const std::string& bytes);

void save_program(const Program& p, const std::string& path);
// Whole files as bytes; Error("io") when they cannot be read or written.
std::string read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, const std::string& bytes);
Program load_program(const std::string& path);

// Header fields without parsing the program (for messages and printing).
struct ProgramHeader {
  uint32_t format_version = 0;
  std::string rjax_version;
};
ProgramHeader read_program_header(const std::string& bytes);

// Strict checks of a graph (what parse_program runs): types re-inferred and
// compared with weak flags, ids and control-flow layouts. Throws
// Error(kind, ...) with the node's position in the message.
void verify_strict(const Graph& g, const std::string& kind = "format");

uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 1469598103934665603ULL);

}  // namespace rj
