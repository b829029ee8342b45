// A minimal unit-test framework for the C++ core (no dependency).
//   TEST(name) { CHECK(cond); CHECK_EQ(a, b); CHECK_THROWS_KIND(expr, "shape"); SKIP("why"); }
// The runner (main.cpp) runs every test, or those whose name contains argv[1],
// and prints "N passed, N failed, N skipped" last: each CHECK that holds is
// a pass, each that fails a failure (the test goes on), each SKIP a skip.
#pragma once
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace rjt {

struct Case {
  const char* name;
  void (*fn)();
};
std::vector<Case>& cases();
struct Register {
  Register(const char* n, void (*f)()) { cases().push_back({n, f}); }
};
struct Counts {
  long passed = 0, failed = 0, skipped = 0;
};
Counts& counts();
struct Skip {
  std::string why;
};
void report_failure(const char* file, int line, const std::string& what);

template <class A, class B>
std::string show_pair(const A& a, const B& b) {
  std::ostringstream os;
  os << a << " vs " << b;
  return os.str();
}

}  // namespace rjt

#define RJT_CAT2(a, b) a##b
#define RJT_CAT(a, b) RJT_CAT2(a, b)
#define TEST(name)                                                      \
  static void RJT_CAT(rjt_test_, name)();                               \
  static rjt::Register RJT_CAT(rjt_reg_, name)(#name, &RJT_CAT(rjt_test_, name)); \
  static void RJT_CAT(rjt_test_, name)()

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (cond) ++rjt::counts().passed;                                        \
    else rjt::report_failure(__FILE__, __LINE__, "CHECK(" #cond ")");        \
  } while (0)

#define CHECK_EQ(a, b)                                                                   \
  do {                                                                                   \
    auto&& rjt_a = (a);                                                                  \
    auto&& rjt_b = (b);                                                                  \
    if (rjt_a == rjt_b) ++rjt::counts().passed;                                          \
    else rjt::report_failure(__FILE__, __LINE__, "CHECK_EQ(" #a ", " #b "): " + rjt::show_pair(rjt_a, rjt_b)); \
  } while (0)

// expr must throw rj::Error of the given kind (message checked to contain `part` if non-empty).
#define CHECK_THROWS_MSG(expr, kind_, part)                                                      \
  do {                                                                                          \
    std::string rjt_got = "no exception";                                                       \
    bool rjt_ok = false;                                                                        \
    try { (void)(expr); } catch (rj::Error& e) {                                                \
      rjt_got = e.kind + ": " + e.what();                                                       \
      rjt_ok = e.kind == (kind_) && rjt_got.find(part) != std::string::npos;                    \
    } catch (std::exception& e) { rjt_got = std::string("std::exception: ") + e.what(); }      \
    if (rjt_ok) ++rjt::counts().passed;                                                         \
    else rjt::report_failure(__FILE__, __LINE__, "CHECK_THROWS(" #expr ", " #kind_ "): got " + rjt_got); \
  } while (0)
#define CHECK_THROWS_KIND(expr, kind_) CHECK_THROWS_MSG(expr, kind_, "")

#define SKIP(why) throw rjt::Skip{why}
