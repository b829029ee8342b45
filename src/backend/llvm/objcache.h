// The persistent compile cache: object code of compiled kernel modules kept
// in files across R sessions (off unless a directory is set: the R option
// rjax.cache_dir, passed to the core as the environment variable
// RJAX_CACHE_DIR; rjax-run takes --cache-dir).
//
// Key of a module: a hash of the structural descriptions of its kernels
// (KernelSpec::key(), which names primitives and holds every attribute and
// type: the part of the optimised program this module compiles), with the
// backend, the target CPU name and features, the LLVM version and the rjax
// version. An entry file <dir>/<hash>.rjo holds a header (magic, entry
// version, the key's description, a second hash of the kernels) and the
// object bytes with their checksum; an entry that does not match in every
// field, or fails its checksum, is ignored and overwritten by a fresh
// compile (never loaded). Files are written to a temporary name and
// renamed, so readers never see half an entry.
#pragma once
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "objcache_stats.h"

namespace rj {


// What compile_kernel_set() needs to know about one module.
struct ObjCacheEntry {
  bool enabled = false;       // a cache directory is set
  std::string module_id;      // LLVM module identifier (ties the compiled object to its file)
  std::string symbol_prefix;  // deterministic kernel names: prefix + index
  std::unique_ptr<llvm::MemoryBuffer> object;  // set on a hit
};

// Looks up the module of these kernels (their keys, in module order) for
// the host `cpu`/`features`.
ObjCacheEntry object_cache_lookup(const std::vector<std::string>& kernel_keys, const std::string& cpu,
                                  const std::string& features);

// The ORC object cache handed to LLJIT's compiler: stores each compiled
// module registered by object_cache_lookup() (getObject() always misses:
// hits are loaded before any IR is generated).
llvm::ObjectCache* persistent_object_cache();

}  // namespace rj
