// The persistent compile cache (src/backend/llvm/objcache.*): a released
// program compiled again loads its object code from the cache directory;
// corrupt and foreign entries are rejected and compiled again.
#include <dirent.h>
#include <unistd.h>
#include <cstdlib>
#include <cstring>

#include "backend/llvm/objcache.h"
#include "ir/serialize.h"
#include "test.h"
#include "transforms/passes.h"
#include "util.h"

using namespace rj;

namespace {

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> r;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".rjo") == 0) r.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  return r;
}

std::vector<double> run_once(const std::vector<BufferPtr>& in) {
  // A program no other test compiles (its own shapes), so its kernels are
  // not in the session's cache; the executable dies at the end, and with it
  // the kernels' module.
  auto g = rjt::sample_graph(DType::f64, 7, 5);
  auto exe = compile(optimize(*g), "llvm");
  auto r = exe->run(in);
  return {r[0]->as<double>()[0], r[1]->as<double>()[3]};
}

}  // namespace

TEST(persistent_cache_hits_and_rejects) {
  char tmpl[] = "/tmp/rjax-objcache-XXXXXX";
  if (!mkdtemp(tmpl)) SKIP("no temporary directory");
  const std::string dir = tmpl;
  setenv("RJAX_CACHE_DIR", dir.c_str(), 1);
  std::vector<double> xs(35), ys(35);
  for (int k = 0; k < 35; ++k) {
    xs[k] = 0.01 * k;
    ys[k] = 1.0 / (k + 1);
  }
  std::vector<BufferPtr> in = {rjt::vec(DType::f64, {7, 5}, xs), rjt::vec(DType::f64, {7, 5}, ys)};
  ObjCacheStats s0 = object_cache_stats();
  auto cold = run_once(in);
  ObjCacheStats s1 = object_cache_stats();
  CHECK(s1.misses > s0.misses);
  CHECK(s1.writes > s0.writes);
  CHECK(!entries(dir).empty());
  auto warm = run_once(in);
  ObjCacheStats s2 = object_cache_stats();
  CHECK(s2.hits > s1.hits);
  CHECK_EQ(s2.misses, s1.misses);
  CHECK(std::memcmp(cold.data(), warm.data(), sizeof(double) * 2) == 0);
  // Corrupt entries: rejected, compiled again, rewritten.
  for (auto& f : entries(dir)) {
    std::string b = read_file_bytes(f);
    b[b.size() - 7] ^= 0x5a;
    write_file_bytes(f, b);
  }
  auto again = run_once(in);
  ObjCacheStats s3 = object_cache_stats();
  CHECK(s3.rejected > s2.rejected);
  CHECK(s3.writes > s2.writes);
  CHECK(std::memcmp(cold.data(), again.data(), sizeof(double) * 2) == 0);
  run_once(in);
  CHECK(object_cache_stats().hits > s3.hits);  // the rewritten entry is good
  // Foreign entries (another LLVM version) are rejected too.
  for (auto& f : entries(dir)) {
    std::string b = read_file_bytes(f);
    size_t at = b.find(";llvm=");
    if (at != std::string::npos) b[at + 6] = '9';
    write_file_bytes(f, b);
  }
  ObjCacheStats s4 = object_cache_stats();
  auto foreign = run_once(in);
  CHECK(object_cache_stats().rejected > s4.rejected);
  CHECK(std::memcmp(cold.data(), foreign.data(), sizeof(double) * 2) == 0);
  // Truncated and empty entries.
  for (auto& f : entries(dir)) write_file_bytes(f, read_file_bytes(f).substr(0, 20));
  ObjCacheStats s5 = object_cache_stats();
  run_once(in);
  CHECK(object_cache_stats().rejected > s5.rejected);
  unsetenv("RJAX_CACHE_DIR");
  for (auto& f : entries(dir)) std::remove(f.c_str());
  rmdir(dir.c_str());
}
