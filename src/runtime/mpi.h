// Communication between processes: the collectives of src/prims/collective.cpp
// run here, over MPI when the process was started by mpirun, and as the
// identity (one rank) otherwise.
//
// Why MPI is opened at run time (dlopen) instead of linked: rjax must build,
// load and pass its tests on machines without MPI, and a package linked to
// libmpi would fail to load there. Only OpenMPI's ABI is supported (Debian's
// openmpi-bin / libopenmpi-dev): its handles (MPI_Comm, MPI_Datatype, MPI_Op,
// MPI_Errhandler) are the addresses of exported global objects
// (ompi_mpi_comm_world, ompi_mpi_double, ompi_mpi_op_sum, ...), which dlsym
// returns; the entry points are declared here with OpenMPI's signatures.
//
// When MPI is used. init() starts MPI only when the environment says that
// mpirun (or another PMIx launcher) started this process (OMPI_COMM_WORLD_SIZE,
// PMIX_RANK, PMI_SIZE); a plain `Rscript` or R session never touches MPI and
// every collective is the identity on one rank. init() runs lazily, at the
// first use of the axis (the first collective, shard_map(), rj_mpi_info()).
// finalize() runs at exit (R's exit finaliser and atexit as a fallback).
//
// Failure model (see inst/DESIGN-NOTES.md, "Distributed"):
// - every collective first exchanges a small header (sequence number, kind,
//   dtype, element count, program signature) with one max-reduction of
//   (h, -h): ranks that disagree all learn it at the same step and throw
//   Error("distributed_mismatch") instead of deadlocking in mismatched calls;
// - MPI runs with MPI_ERRORS_RETURN on the world communicator, so an MPI error
//   is an Error("distributed") and never an abort inside the library;
// - each collective is non-blocking (MPI_Iallreduce / MPI_Iallgather) polled
//   against a deadline (timeout(), default 300 s; RJAX_MPI_TIMEOUT or
//   options(rjax.mpi_timeout)): a rank that waits longer for its peers
//   throws Error("distributed_timeout"); the communicator is then unusable
//   (`broken`) and finalize() aborts the job instead of waiting in
//   MPI_Finalize;
// - a killed or crashed rank is OpenMPI's business: mpirun ends the other
//   ranks of a job whose process died or exited without MPI_Finalize.
#pragma once
#include <cstdint>
#include <string>

#include "../ir/ir.h"

namespace rj {
namespace mpi {

enum class Op : int { sum = 0, max = 1, min = 2 };

struct Info {
  bool launched = false;   // the environment says mpirun started us
  bool active = false;     // MPI is initialised and usable
  bool broken = false;     // a collective failed or timed out: no further communication
  int rank = 0;
  int size = 1;
  std::string library;     // the libmpi that was opened ("" when none)
  std::string why_inactive;  // when launched but not active: the reason
};

// Starts MPI when launched under mpirun (idempotent; cheap after the first
// call). Throws Error("distributed") when launched but libmpi cannot be
// opened or initialised: running K copies of a program that each believe
// they are alone would give K silently wrong answers.
const Info& init();
const Info& info();
bool launched_by_mpirun();

int rank();
int size();

// Seconds a collective waits for its peers before Error("distributed_timeout").
double timeout();
void set_timeout(double seconds);
// Reductions in rank order (allgather, then a local sum of the K parts in
// order 0..K-1): every rank gets bit-identical results that do not depend
// on MPI's reduction algorithm, at K times the traffic.
bool deterministic();
void set_deterministic(bool on);

// recv = op over ranks of send (count elements of dtype d); send == recv
// is allowed. One rank: a copy (or nothing when send == recv).
void allreduce(const void* send, void* recv, int64_t count, DType d, Op op, uint64_t signature = 0);
// recv = the K ranks' send blocks (count elements each) in rank order.
void allgather(const void* send, void* recv, int64_t count, DType d, uint64_t signature = 0);
// Agreement on a value (a program's hash): throws
// Error("distributed_mismatch", what + ...) on every rank when the ranks'
// values differ.
void check_agreement(uint64_t value, const std::string& what);
// Ends the job from any rank (MPI_Abort); prints why first.
[[noreturn]] void abort_job(int code, const std::string& why);
void finalize();

// Traffic counters (payload and header bytes this rank sent into
// collectives, and the number of collectives), for benchmarks.
struct Counters {
  int64_t calls = 0;
  int64_t bytes = 0;
};
Counters counters();
void reset_counters();

}  // namespace mpi
}  // namespace rj
