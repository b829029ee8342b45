// The typed front end of ScalarBuilder: one place that checks the operand
// dtypes of every basis op and computes its result dtype, so that the
// backends (interpreter tape, LLVM) never disagree about types.
#include "scalar.h"

#include <cstring>
#include <limits>

namespace rj {

namespace {
struct OpInfo {
  const char* name;
  int arity;
  enum Kind : uint8_t { arith, int_only, compare, logic, select, convert, predicate, float_math } kind;
};
const OpInfo kOps[] = {
    {"add", 2, OpInfo::arith},      {"sub", 2, OpInfo::arith},        {"mul", 2, OpInfo::arith},
    {"div", 2, OpInfo::arith},      {"floordiv", 2, OpInfo::int_only}, {"floormod", 2, OpInfo::int_only},
    {"neg", 1, OpInfo::arith},      {"abs", 1, OpInfo::arith},        {"min", 2, OpInfo::arith},
    {"max", 2, OpInfo::arith},      {"eq", 2, OpInfo::compare},       {"ne", 2, OpInfo::compare},
    {"lt", 2, OpInfo::compare},     {"le", 2, OpInfo::compare},       {"gt", 2, OpInfo::compare},
    {"ge", 2, OpInfo::compare},     {"and", 2, OpInfo::logic},        {"or", 2, OpInfo::logic},
    {"not", 1, OpInfo::logic},      {"select", 3, OpInfo::select},    {"convert", 1, OpInfo::convert},
    {"is_nan", 1, OpInfo::predicate}, {"is_na_value", 1, OpInfo::predicate},
    {"floor", 1, OpInfo::float_math}, {"ceil", 1, OpInfo::float_math}, {"trunc", 1, OpInfo::float_math},
    {"rint", 1, OpInfo::float_math},  {"sqrt", 1, OpInfo::float_math}, {"exp", 1, OpInfo::float_math},
    {"expm1", 1, OpInfo::float_math}, {"log", 1, OpInfo::float_math},  {"log1p", 1, OpInfo::float_math},
    {"sin", 1, OpInfo::float_math},   {"cos", 1, OpInfo::float_math},  {"tan", 1, OpInfo::float_math},
    {"asin", 1, OpInfo::float_math},  {"acos", 1, OpInfo::float_math}, {"atan", 1, OpInfo::float_math},
    {"atan2", 2, OpInfo::float_math}, {"sinh", 1, OpInfo::float_math}, {"cosh", 1, OpInfo::float_math},
    {"tanh", 1, OpInfo::float_math},  {"asinh", 1, OpInfo::float_math}, {"acosh", 1, OpInfo::float_math},
    {"atanh", 1, OpInfo::float_math}, {"pow", 2, OpInfo::float_math},  {"tgamma", 1, OpInfo::float_math},
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == (size_t)SOp::count, "one entry per basis op");

[[noreturn]] void bad(SOp o, const std::string& why) {
  fail("internal", std::string("scalar description: ") + kOps[(int)o].name + ": " + why);
}

DType result_of(SOp o, const SVal* a, int n) {
  const OpInfo& info = kOps[(int)o];
  if (n != info.arity) bad(o, "wrong number of operands");
  auto same = [&](int from) {
    for (int k = from + 1; k < n; ++k)
      if (a[k].dtype != a[from].dtype) bad(o, "operands of different dtypes");
  };
  switch (info.kind) {
    case OpInfo::arith:
      same(0);
      if (a[0].dtype == DType::b8) bad(o, "bool operand");
      return a[0].dtype;
    case OpInfo::int_only:
      same(0);
      if (a[0].dtype != DType::i32) bad(o, "needs i32 operands");
      return DType::i32;
    case OpInfo::compare: same(0); return DType::b8;
    case OpInfo::logic:
      for (int k = 0; k < n; ++k)
        if (a[k].dtype != DType::b8) bad(o, "needs bool operands");
      return DType::b8;
    case OpInfo::select:
      if (a[0].dtype != DType::b8) bad(o, "the condition must be bool");
      same(1);
      return a[1].dtype;
    case OpInfo::predicate: return DType::b8;
    case OpInfo::float_math:
      same(0);
      if (!is_float(a[0].dtype)) bad(o, "needs float operands");
      return a[0].dtype;
    case OpInfo::convert: break;
  }
  bad(o, "convert takes a target dtype");
}
}  // namespace

const char* sop_name(SOp op) { return kOps[(int)op].name; }
int sop_arity(SOp op) { return kOps[(int)op].arity; }

SVal ScalarBuilder::op(SOp o, SVal a) { return basis(o, &a, 1, result_of(o, &a, 1)); }
SVal ScalarBuilder::op(SOp o, SVal a, SVal b) {
  SVal v[2] = {a, b};
  return basis(o, v, 2, result_of(o, v, 2));
}
SVal ScalarBuilder::op(SOp o, SVal a, SVal b, SVal c) {
  SVal v[3] = {a, b, c};
  return basis(o, v, 3, result_of(o, v, 3));
}
SVal ScalarBuilder::convert(SVal a, DType d) {
  if (a.dtype == d) return a;
  return basis(SOp::convert, &a, 1, d);
}

SVal ScalarBuilder::call(const char* name, std::vector<SVal> args) {
  const SpecialFn& f = special_fn(name);
  if ((int)args.size() != f.arity) fail("internal", std::string("special function ") + name + ": wrong arity");
  for (auto& x : args)
    if (!is_float(x.dtype) || x.dtype != args[0].dtype)
      fail("internal", std::string("special function ") + name + ": needs float arguments of one dtype");
  return call_special(f, args);
}

SVal ScalarBuilder::na(DType d) {
  switch (d) {
    case DType::f64: return constant(na_real(), d);
    case DType::f32: return constant(std::numeric_limits<double>::quiet_NaN(), d);
    case DType::i32: return constant((double)kNAInt, d);
    case DType::b8: return constant((double)kNABool, d);
  }
  return constant(0, d);
}

SVal ScalarBuilder::is_na(SVal a) { return is_float(a.dtype) ? is_nan(a) : is_na_value(a); }

const SpecialFn& special_fn(const std::string& name) {
  for (const SpecialFn& f : special_fns())
    if (name == f.name) return f;
  fail("internal", "unknown special function '" + name + "'");
}

}  // namespace rj
