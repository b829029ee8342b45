// Runner of the C++ unit tests (see test.h).
#include <cstring>

#include "test.h"

namespace rjt {
std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}
Counts& counts() {
  static Counts c;
  return c;
}
static const char* current = "";
void report_failure(const char* file, int line, const std::string& what) {
  ++counts().failed;
  std::cout << "FAIL [" << current << "] " << file << ":" << line << ": " << what << "\n";
}
}  // namespace rjt

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : "";
  auto& c = rjt::counts();
  for (auto& t : rjt::cases()) {
    if (*filter && !std::strstr(t.name, filter)) continue;
    rjt::current = t.name;
    try {
      t.fn();
    } catch (rjt::Skip& s) {
      ++c.skipped;
      std::cout << "SKIP [" << t.name << "] " << s.why << "\n";
    } catch (std::exception& e) {
      rjt::report_failure(t.name, 0, std::string("unexpected exception: ") + e.what());
    }
  }
  std::cout << c.passed << " passed, " << c.failed << " failed, " << c.skipped << " skipped\n";
  return c.failed ? 1 : 0;
}
