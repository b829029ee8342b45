// The persistent compile cache (see objcache.h).
#include "objcache.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/IR/Module.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unistd.h>

#include "../../ir/serialize.h"
#include "../../ir/version.h"

namespace rj {
namespace {

const char kMagic[8] = {'R', 'J', 'A', 'X', 'O', 'B', 'J', '\0'};
constexpr uint32_t kEntryVersion = 1;

std::mutex& mu() {
  static std::mutex* m = new std::mutex;
  return *m;
}
ObjCacheStats& stats() {
  static ObjCacheStats s;
  return s;
}

struct Pending {
  std::string path, desc;
  uint64_t kernels_hash;
};
std::map<std::string, Pending>& pending() {  // module id -> where its object goes
  static auto* p = new std::map<std::string, Pending>;
  return *p;
}

std::string hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", (unsigned long long)v);
  return b;
}

void put_u32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }

std::string entry_bytes(const Pending& p, llvm::MemoryBufferRef obj) {
  std::string s(kMagic, 8);
  put_u32(s, kEntryVersion);
  put_u32(s, (uint32_t)p.desc.size());
  s += p.desc;
  put_u64(s, p.kernels_hash);
  put_u64(s, obj.getBufferSize());
  put_u64(s, fnv1a64(obj.getBufferStart(), obj.getBufferSize()));
  s.append(obj.getBufferStart(), obj.getBufferSize());
  return s;
}

// The object bytes of a valid entry for (desc, kernels_hash), or false.
bool parse_entry(const std::string& s, const std::string& desc, uint64_t kh, std::string* obj) {
  size_t at = 0;
  auto take = [&](void* dst, size_t n) {
    if (at + n > s.size()) return false;
    std::memcpy(dst, s.data() + at, n);
    at += n;
    return true;
  };
  char magic[8];
  uint32_t ver, dlen;
  if (!take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return false;
  if (!take(&ver, 4) || ver != kEntryVersion) return false;
  if (!take(&dlen, 4) || dlen != desc.size() || at + dlen > s.size() || s.compare(at, dlen, desc) != 0) return false;
  at += dlen;
  uint64_t h, len, sum;
  if (!take(&h, 8) || h != kh || !take(&len, 8) || !take(&sum, 8)) return false;
  if (len != s.size() - at) return false;
  if (fnv1a64(s.data() + at, len) != sum) return false;
  obj->assign(s, at, len);
  return true;
}

struct Cache : llvm::ObjectCache {
  void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef obj) override {
    Pending p;
    {
      std::lock_guard<std::mutex> lk(mu());
      auto it = pending().find(m->getModuleIdentifier());
      if (it == pending().end()) return;
      p = it->second;
      pending().erase(it);
    }
    // Temporary file, then rename: concurrent sessions never read half an entry.
    std::string tmp = p.path + ".tmp" + std::to_string((long)getpid());
    try {
      write_file_bytes(tmp, entry_bytes(p, obj));
      if (std::rename(tmp.c_str(), p.path.c_str()) == 0) {
        std::lock_guard<std::mutex> lk(mu());
        ++stats().writes;
      } else {
        std::remove(tmp.c_str());
      }
    } catch (Error&) {
      std::remove(tmp.c_str());  // an unwritable cache only costs speed
    }
  }
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override { return nullptr; }
};

}  // namespace

std::string object_cache_dir() {
  const char* d = std::getenv("RJAX_CACHE_DIR");
  return d ? std::string(d) : std::string();
}

ObjCacheStats object_cache_stats() {
  std::lock_guard<std::mutex> lk(mu());
  return stats();
}

llvm::ObjectCache* persistent_object_cache() {
  static Cache* c = new Cache;
  return c;
}

ObjCacheEntry object_cache_lookup(const std::vector<std::string>& kernel_keys, const std::string& cpu,
                                  const std::string& features) {
  ObjCacheEntry e;
  std::string all;
  for (const std::string& k : kernel_keys) {
    all += k;
    all += '\n';
  }
  const std::string desc = std::string("rjax=" RJAX_VERSION ";backend=llvm;llvm=") + LLVM_VERSION_STRING +
                           ";cpu=" + cpu + ";features=" + features;
  const uint64_t h = fnv1a64(all.data(), all.size(), fnv1a64(desc.data(), desc.size()));
  const uint64_t h2 = fnv1a64(all.data(), all.size(), 0x84222325cbf29ce4ULL);  // a second, independent check
  e.symbol_prefix = "rj_k" + hex(h) + "_";
  e.module_id = "rjax_" + hex(h);
  const std::string dir = object_cache_dir();
  if (dir.empty()) return e;
  e.enabled = true;
  const std::string path = dir + "/" + hex(h) + ".rjo";
  std::string obj;
  bool found = false, valid = false;
  try {
    std::string bytes = read_file_bytes(path);
    found = true;
    valid = parse_entry(bytes, desc, h2, &obj);
  } catch (Error&) {
  }
  std::lock_guard<std::mutex> lk(mu());
  if (valid) {
    ++stats().hits;
    e.object = llvm::MemoryBuffer::getMemBufferCopy(obj, e.module_id);
    return e;
  }
  if (found) ++stats().rejected;  // corrupt or foreign: compiled again and overwritten
  ++stats().misses;
  pending()[e.module_id] = Pending{path, desc, h2};
  return e;
}

}  // namespace rj
