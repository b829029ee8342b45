// Fusion: partitions a graph into steps that a native backend runs in order.
// A step is either a fused kernel (one loop over memory computing a group of
// element-wise nodes and, optionally, reductions of them) or a library call
// (one node run by its primitive's reference kernel, PrimDef::eval).
//
// Kernels loop over a column-major 2-D view of their domain: rows (i, the
// fast index) by cols (j). Operands are read through simple index maps, which
// is what lets broadcasts and scalars fuse without materialising anything.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../ir/ir.h"

namespace rj {

// The 2-D loop view of a shape: rank 0 -> 1x1, rank 1 -> n x 1, rank 2 as
// is, higher ranks -> (all elements) x 1.
struct Dom2 {
  int64_t rows = 1, cols = 1;
  bool operator==(const Dom2& o) const { return rows == o.rows && cols == o.cols; }
  bool operator!=(const Dom2& o) const { return !(*this == o); }
};
Dom2 dom2(const Shape& s);

// How a kernel reduces its domain.
enum class RedKind : uint8_t {
  none,
  all,  // every axis -> one value
  col,  // axis 0 of a matrix (colSums) -> one value per column
  row,  // axis 1 of a matrix (rowSums) -> one value per row
};

// How a value read from memory is indexed at loop position (i, j).
enum class IndexMap : uint8_t {
  linear,  // element i + j * rows (same number of elements as the domain)
  scalar,  // element 0
  col,     // element i: a [rows, 1] array stretched along the columns
  row,     // element j: a [1, cols] array stretched along the rows
};

struct FusedKernel {
  Dom2 dom;
  RedKind red = RedKind::none;
  std::vector<int> members;  // nodes computed in the loop, in topological order
  std::vector<int> inputs;   // values read from memory (not members)
  std::vector<int> outputs;  // members written to memory: used outside, or reductions
  int weight = 0;            // sum of the members' weights (FusionRules::weight)
};

struct Step {
  bool is_kernel = false;
  int index = -1;  // kernel index when is_kernel, else the node id of the library call
};

struct FusionPlan {
  std::vector<FusedKernel> kernels;
  std::vector<Step> steps;  // in an order that respects every dependency
};

// Whether node v can be a member of a kernel, and with which domain and
// reduction kind: decided by the backend (what its code generator supports).
struct FusionRules {
  // True when the backend can compute node v of g inside a loop.
  bool (*supports)(const Graph& g, int v) = nullptr;
  // The size of node v's code in a loop body (backend units; null: 1), and
  // the most one kernel may hold. Compile time of one body grows faster
  // than its size (the optimiser and the vectoriser work on the whole body)
  // while one more pass over memory costs little next to a long body's
  // arithmetic: long chains are cut into kernels within the budget, and
  // repeated pieces of a chain then share one compiled kernel.
  int (*weight)(const Graph& g, int v) = nullptr;
  int max_weight = 0;  // 0: no limit
};

// The reduction kind of a reduce_* node (none: not fusable as a reduction).
RedKind reduction_kind(const Graph& g, int v);
// The index map for reading value `operand` from memory inside member v
// (v an element-wise, broadcast, reshape or reduce node).
IndexMap operand_map(const Graph& g, int v, int operand);
// Scalar constants: kernels bake them into their code instead of reading
// them from memory (they are no kernel's inputs).
bool is_immediate(const Graph& g, int v);
// A gather node that selects a contiguous ascending range of each dimension
// of a vector or matrix (x[a:b], X[a:b, c:d], the slices of diff()) is a
// pure index map and fuses like a broadcast: element (i, j) of its loop
// domain is element i + j * ld + offset of the operand's column-major
// buffer (ld == 0: the domain's own row count, so i + j * rows + offset).
// offset < 0 for any other node.
struct SliceRead {
  int64_t offset = -1;
  int64_t ld = 0;
};
SliceRead slice_read(const Graph& g, int v);
// The loop domain a member v needs.
Dom2 member_domain(const Graph& g, int v);

FusionPlan fuse(const Graph& g, const FusionRules& rules);

// Readable summary of a plan (for debugging and tests).
std::string print_plan(const Graph& g, const FusionPlan& p);

}  // namespace rj
