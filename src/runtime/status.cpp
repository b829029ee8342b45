// The process-wide warning status word (see status.h).
#include "status.h"

namespace rj {
namespace {
// A plain uint32_t accessed through std::atomic_ref-style builtins, so that
// generated code can `atomicrmw or` the same address.
alignas(64) uint32_t g_status = 0;
}  // namespace

uint32_t* rj_status_word() { return &g_status; }

void raise_warning(uint32_t codes) {
  if (codes) __atomic_fetch_or(&g_status, codes, __ATOMIC_RELAXED);
}

uint32_t take_warnings() { return __atomic_exchange_n(&g_status, 0u, __ATOMIC_ACQ_REL); }

const char* warning_text(uint32_t code) {
  switch (code) {
    case kWarnIntOverflow: return "NAs produced by integer overflow";
    case kWarnNaNProduced: return "NaNs produced";
    case kWarnIntRange: return "NAs introduced by coercion to integer range";
    case kWarnMaxEmpty: return "no non-missing arguments to max; returning -Inf";
    case kWarnMinEmpty: return "no non-missing arguments to min; returning Inf";
    case kWarnSumOverflow: return "integer overflow - use sum(as.numeric(.))";
    case kWarnCumsumOverflow: return "integer overflow in 'cumsum'; use 'cumsum(as.numeric(.))'";
  }
  return nullptr;
}

}  // namespace rj
