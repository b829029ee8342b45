// What every backend provides: an executable for a whole graph.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../ir/ir.h"

namespace rj {

struct Executable {
  GraphPtr graph;       // the (optimised) program it runs
  std::string backend;  // "interp", "llvm", ...
  virtual ~Executable() = default;
  // Inputs in the order of graph->inputs(); outputs in the order of graph->outputs.
  virtual std::vector<BufferPtr> run(const std::vector<BufferPtr>& inputs) = 0;
  // What the backend made of the program (e.g. the LLVM backend's fusion
  // plan, and its generated code when RJAX_DUMP_IR is set); may be empty.
  virtual std::string describe() const { return std::string(); }
};
using ExecutablePtr = std::shared_ptr<Executable>;

ExecutablePtr compile_interp(GraphPtr g);
ExecutablePtr compile_llvm(GraphPtr g);  // src/backend/llvm/
// src/backend/cuda/: GPU 0 (throws Error("device") saying what is missing),
// and the host grid shim that runs the same rendered kernels on the CPU.
ExecutablePtr compile_cuda(GraphPtr g);
ExecutablePtr compile_cuda_shim(GraphPtr g);
ExecutablePtr compile(GraphPtr g, const std::string& backend);

// Checks that run-time inputs match the graph's parameter types.
void check_inputs(const Graph& g, const std::vector<BufferPtr>& inputs);

}  // namespace rj
