// Counters of the persistent compile cache (objcache.h), in a header
// without LLVM types so that the R glue can report them.
#pragma once
#include <cstdint>
#include <string>

namespace rj {

struct ObjCacheStats {
  int64_t hits = 0, misses = 0, rejected = 0, writes = 0;
};
ObjCacheStats object_cache_stats();
std::string object_cache_dir();  // "" when off (from $RJAX_CACHE_DIR)

}  // namespace rj
