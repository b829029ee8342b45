// Collectives between GPUs: NCCL, opened at run time like the other CUDA
// libraries (rjax builds, loads and tests without it), for the CUDA
// backend's psum and all_gather when the MPI job has more than one rank.
//
// NCCL needs a communicator per GPU: rank 0 makes the unique id, MPI
// (mpi.h) hands it to every rank, and each rank joins with the GPU whose
// primary context is current. Whether the job uses NCCL is decided once,
// by all ranks together (a min-reduction of "NCCL opened here"), at the
// first device collective: either every rank calls NCCL or every rank
// takes the host path (download, MPI, upload), so ranks never mix the two.
//
// What stays on the host path: max/min over ranks (R's NA rules, which
// NCCL's max/min do not know), gathers that are not one contiguous block
// per rank, and every collective in deterministic mode (mpi.h: NCCL's
// reduction order is its own).
//
// Failure model: before each NCCL call the ranks agree on the collective
// over MPI (mpi::check_agreement, so a mismatch is an error, not a hang);
// the NCCL call is then waited for by polling the stream (`done`) and
// NCCL's asynchronous error against mpi::timeout(); on timeout or error the
// communicator is aborted (ncclCommAbort) and Error("distributed_timeout" /
// "distributed") is thrown.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "../ir/ir.h"

namespace rj {
namespace nccl {

struct Info {
  bool loaded = false;   // libnccl opened with every entry point
  std::string library;   // the file opened
  std::string why_not;   // when not loaded: what is missing
  int version = 0;       // ncclGetVersion (e.g. 22304 for 2.23.4)
  bool in_use = false;   // the job decided to run device collectives through NCCL
  int64_t calls = 0;     // NCCL collectives run by this rank
  int64_t bytes = 0;     // their payload bytes sent by this rank
};

// Opens libnccl on first call (never throws).
Info info();

// recv = sum over ranks of send (count elements, f32 or f64, device
// pointers), or recv = the ranks' send blocks in rank order. `done` polls
// the device's stream (true when the work queued so far has finished).
// Return false, having done nothing, when NCCL does not run these (one
// rank, NCCL absent on some rank, deterministic mode, other dtypes): the
// caller then takes the host path.
bool allreduce_sum(const void* send, void* recv, int64_t count, DType d, uint64_t signature,
                   const std::function<bool()>& done);
bool allgather(const void* send, void* recv, int64_t count, DType d, uint64_t signature,
               const std::function<bool()>& done);

}  // namespace nccl
}  // namespace rj
