// Kernel code generation: a two-level loop nest (columns j outside, rows i
// inside) whose body computes every op of the kernel for one element. The
// body is plain scalar IR; LLVM's O3 pipeline vectorises the inner loop
// (pointers are noalias, full reductions use reassociable adds), and the
// polynomial exp/log/tanh of math.cpp vectorise with it.
#include "codegen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <limits>

#include "math.h"

namespace rj {
namespace {

using llvm::Value;

llvm::Type* mem_type(llvm::LLVMContext& c, DType d) {
  switch (d) {
    case DType::f32: return llvm::Type::getFloatTy(c);
    case DType::f64: return llvm::Type::getDoubleTy(c);
    case DType::i32: return llvm::Type::getInt32Ty(c);
    case DType::b8: return llvm::Type::getInt8Ty(c);
  }
  return nullptr;
}

double red_init(const std::string& p) {
  const double inf = std::numeric_limits<double>::infinity();
  if (p == "reduce_sum") return 0;
  if (p == "reduce_prod") return 1;
  if (p == "reduce_max") return -inf;
  return inf;
}

struct Gen {
  llvm::Module& m;
  llvm::LLVMContext& c;
  const KernelSpec& s;
  llvm::IRBuilder<> b;
  llvm::Function* fn = nullptr;
  std::vector<Value*> ptr;      // inputs then outputs
  std::vector<Value*> hoisted;  // scalar / row-map loads per input (nullptr otherwise)
  Value *rows = nullptr, *ilo = nullptr, *ihi = nullptr, *jlo = nullptr, *jhi = nullptr, *red = nullptr;
  Value *i = nullptr, *j = nullptr, *lin = nullptr;
  std::vector<Value*> acc;  // per op: accumulator alloca (full and column reductions)

  Gen(llvm::Module& mod, const KernelSpec& spec) : m(mod), c(mod.getContext()), s(spec), b(mod.getContext()) {}

  llvm::Type* dbl() { return b.getDoubleTy(); }
  Value* cst(DType d, double v) {
    llvm::Type* t = mem_type(c, d);
    if (t->isFloatingPointTy()) return llvm::ConstantFP::get(t, v);
    return llvm::ConstantInt::get(t, (uint64_t)(int64_t)v, true);
  }
  Value* truth(Value* v) { return b.CreateICmpNE(v, llvm::ConstantInt::get(v->getType(), 0)); }
  Value* boolean(Value* i1) { return b.CreateZExt(i1, b.getInt8Ty()); }

  Value* libm(const std::string& name, std::vector<Value*> args, DType d) {
    std::string nm = d == DType::f32 ? name + "f" : name;
    std::vector<llvm::Type*> ts(args.size(), args[0]->getType());
    auto callee = m.getOrInsertFunction(nm, llvm::FunctionType::get(args[0]->getType(), ts, false));
    // No memory effects (errno is never read): lets LICM and the vectoriser
    // treat the call like arithmetic.
    if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
      f->setDoesNotThrow();
      f->setDoesNotAccessMemory();
    }
    return b.CreateCall(callee, args);
  }
  // Special functions of src/prims/special.h, computed in double as the interpreter does.
  Value* helper(const char* name, Value* x, DType d) { return helper(name, std::vector<Value*>{x}, d); }
  Value* helper(const char* name, std::vector<Value*> args, DType d) {
    std::vector<llvm::Type*> ts(args.size(), dbl());
    auto callee = m.getOrInsertFunction(name, llvm::FunctionType::get(dbl(), ts, false));
    if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
      f->setDoesNotThrow();
      f->setDoesNotAccessMemory();
    }
    for (auto& a : args) a = d == DType::f32 ? b.CreateFPExt(a, dbl()) : a;
    Value* r = b.CreateCall(callee, args);
    return d == DType::f32 ? b.CreateFPTrunc(r, mem_type(c, d)) : r;
  }
  Value* intr(llvm::Intrinsic::ID id, Value* x) { return b.CreateUnaryIntrinsic(id, x); }

  Value* to_double(Value* v, DType d) {
    switch (d) {
      case DType::f32: return b.CreateFPExt(v, dbl());
      case DType::f64: return v;
      case DType::i32: return b.CreateSIToFP(v, dbl());
      case DType::b8: return b.CreateUIToFP(v, dbl());
    }
    return v;
  }
  // C conversion semantics of the interpreter's k_convert (float -> int saturates).
  Value* convert(Value* v, DType from, DType to) {
    if (from == to) return v;
    llvm::Type* t = mem_type(c, to);
    if (to == DType::b8) {
      Value* nz = is_float(from) ? b.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0)) : truth(v);
      return boolean(nz);
    }
    if (is_float(to)) {
      if (is_float(from)) return from == DType::f32 ? b.CreateFPExt(v, t) : b.CreateFPTrunc(v, t);
      return from == DType::b8 ? b.CreateUIToFP(v, t) : b.CreateSIToFP(v, t);
    }
    // to i32
    if (is_float(from)) return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {t, v->getType()}, {v});
    return b.CreateZExt(v, t);  // bool -> i32
  }

  Value* load(int input, IndexMap map) {
    if (hoisted[input]) return hoisted[input];
    llvm::Type* t = mem_type(c, s.input_dtypes[input]);
    Value* idx = map == IndexMap::col ? i : lin;
    return b.CreateLoad(t, b.CreateInBoundsGEP(t, ptr[input], idx));
  }

  Value* arg(const KOp& op, size_t a, const std::vector<Value*>& vals) {
    const KRef& r = op.args[a];
    if (r.kind == KRef::op) return vals[r.index];
    if (r.kind == KRef::imm) return cst(op.arg_dtypes[a], r.value);
    return load(r.index, r.map);
  }

  Value* unary(const std::string& p, Value* x, DType d) {
    bool fl = is_float(d);
    if (p == "exp") return emit_exp(b, x);
    if (p == "log") return emit_log(b, x);
    if (p == "tanh") return emit_tanh(b, x);
    if (p == "sqrt") return intr(llvm::Intrinsic::sqrt, x);
    if (p == "floor") return intr(llvm::Intrinsic::floor, x);
    if (p == "ceiling") return intr(llvm::Intrinsic::ceil, x);
    if (p == "trunc") return intr(llvm::Intrinsic::trunc, x);
    if (p == "round") return intr(llvm::Intrinsic::rint, x);  // nearbyint in the default rounding mode
    if (p == "lgamma") return helper("rj_lgamma", x, d);
    if (p == "digamma") return helper("rj_digamma", x, d);
    if (p == "trigamma") return helper("rj_trigamma", x, d);
    if (p == "gamma") return libm("tgamma", {x}, d);
    if (p == "neg") return fl ? b.CreateFNeg(x) : b.CreateNeg(x);
    if (p == "abs") return fl ? intr(llvm::Intrinsic::fabs, x) : b.CreateSelect(b.CreateICmpSLT(x, cst(d, 0)), b.CreateNeg(x), x);
    if (p == "sign") {
      Value* zero = cst(d, 0);
      Value* pos = fl ? b.CreateFCmpOGT(x, zero) : b.CreateICmpSGT(x, zero);
      Value* neg = fl ? b.CreateFCmpOLT(x, zero) : b.CreateICmpSLT(x, zero);
      Value* r = b.CreateSelect(pos, cst(d, 1), b.CreateSelect(neg, cst(d, -1), zero));
      return fl ? b.CreateSelect(b.CreateFCmpUNO(x, x), x, r) : r;
    }
    if (p == "not") return boolean(b.CreateICmpEQ(x, cst(d, 0)));
    if (p == "is_nan") return fl ? boolean(b.CreateFCmpUNO(x, x)) : b.getInt8(0);
    if (p == "is_finite") {
      if (!fl) return b.getInt8(1);
      return boolean(b.CreateFCmpOLT(intr(llvm::Intrinsic::fabs, x), cst(d, std::numeric_limits<double>::infinity())));
    }
    // The rest: scalar libm, as the interpreter calls it.
    return libm(p, {x}, d);
  }

  Value* int_div(Value* a, Value* d, bool floor_div, bool mod) {
    // R's %/% and %% on integers (and plain division), with 0 for a zero
    // divisor as the interpreter gives; -1 is special-cased so that
    // INT_MIN / -1 cannot trap.
    llvm::Type* t = a->getType();
    Value* zero = llvm::ConstantInt::get(t, 0), *one = llvm::ConstantInt::get(t, 1),
          *m1 = llvm::ConstantInt::get(t, (uint64_t)-1, true);
    Value* dz = b.CreateICmpEQ(d, zero);
    Value* dm1 = b.CreateICmpEQ(d, m1);
    Value* safe = b.CreateSelect(b.CreateOr(dz, dm1), one, d);
    Value* q = b.CreateSDiv(a, safe);
    Value* r = b.CreateSRem(a, safe);
    q = b.CreateSelect(dm1, b.CreateNeg(a), q);
    r = b.CreateSelect(dm1, zero, r);
    Value* adjust = b.CreateAnd(b.CreateICmpNE(r, zero), b.CreateICmpNE(b.CreateICmpSLT(r, zero), b.CreateICmpSLT(d, zero)));
    Value* res;
    if (mod) res = b.CreateSelect(adjust, b.CreateAdd(r, d), r);
    else if (floor_div) res = b.CreateSelect(adjust, b.CreateSub(q, one), q);
    else res = q;
    return b.CreateSelect(dz, zero, res);
  }

  Value* binary(const std::string& p, Value* x, Value* y, DType d) {
    bool fl = is_float(d);
    bool un = d == DType::b8;  // bools compare as unsigned bytes
    if (p == "add") return fl ? b.CreateFAdd(x, y) : b.CreateAdd(x, y);
    if (p == "sub") return fl ? b.CreateFSub(x, y) : b.CreateSub(x, y);
    if (p == "mul") return fl ? b.CreateFMul(x, y) : b.CreateMul(x, y);
    if (p == "div") return fl ? b.CreateFDiv(x, y) : int_div(x, y, false, false);
    // Float %/% and %% follow R's algorithm exactly (shared with the interpreter).
    if (p == "idiv") return fl ? helper("rj_ffloor", {x, y}, d) : int_div(x, y, true, false);
    if (p == "mod") return fl ? helper("rj_fmod", {x, y}, d) : int_div(x, y, false, true);
    if (p == "max" || p == "min") {
      bool mx = p == "max";
      if (!fl) return b.CreateSelect(mx ? b.CreateICmpSGT(x, y) : b.CreateICmpSLT(x, y), x, y);
      Value* r = b.CreateSelect(mx ? b.CreateFCmpOGT(x, y) : b.CreateFCmpOLT(x, y), x, y);
      r = b.CreateSelect(b.CreateFCmpUNO(y, y), y, r);
      return b.CreateSelect(b.CreateFCmpUNO(x, x), x, r);
    }
    if (p == "pow") {  // x^2 is x*x exactly, as in the interpreter (and R)
      Value* sq = b.CreateFMul(x, x);
      if (auto* k = llvm::dyn_cast<llvm::ConstantFP>(y))
        if (k->isExactlyValue(2.0)) return sq;
      return b.CreateSelect(b.CreateFCmpOEQ(y, cst(d, 2)), sq, libm("pow", {x, y}, d));
    }
    if (p == "atan2") return libm("atan2", {x, y}, d);
    if (p == "and") return boolean(b.CreateAnd(truth(x), truth(y)));
    if (p == "or") return boolean(b.CreateOr(truth(x), truth(y)));
    using P = llvm::CmpInst::Predicate;
    P pr;
    if (p == "eq") pr = fl ? P::FCMP_OEQ : P::ICMP_EQ;
    else if (p == "ne") pr = fl ? P::FCMP_UNE : P::ICMP_NE;
    else if (p == "lt") pr = fl ? P::FCMP_OLT : un ? P::ICMP_ULT : P::ICMP_SLT;
    else if (p == "le") pr = fl ? P::FCMP_OLE : un ? P::ICMP_ULE : P::ICMP_SLE;
    else if (p == "gt") pr = fl ? P::FCMP_OGT : un ? P::ICMP_UGT : P::ICMP_SGT;
    else if (p == "ge") pr = fl ? P::FCMP_OGE : un ? P::ICMP_UGE : P::ICMP_SGE;
    else fail("internal", "llvm backend: no code for primitive '" + p + "'");
    return boolean(fl ? b.CreateFCmp(pr, x, y) : b.CreateICmp(pr, x, y));
  }

  // acc' = acc (op) v in double, with the interpreter's NaN rules for max/min.
  Value* combine(const std::string& p, Value* a, Value* v) {
    llvm::FastMathFlags fm;
    fm.setAllowReassoc();  // lets the vectoriser split a sum into lanes
    if (p == "reduce_sum" || p == "reduce_prod") {
      Value* r = p == "reduce_sum" ? b.CreateFAdd(a, v) : b.CreateFMul(a, v);
      llvm::cast<llvm::Instruction>(r)->setFastMathFlags(fm);
      return r;
    }
    bool mx = p == "reduce_max";
    Value* pick = b.CreateSelect(mx ? b.CreateFCmpOGT(v, a) : b.CreateFCmpOLT(v, a), v, a);
    Value* nan = b.CreateOr(b.CreateFCmpUNO(a, a), b.CreateFCmpUNO(v, v));
    return b.CreateSelect(nan, b.CreateFAdd(a, v), pick);
  }

  Value* from_double(Value* v, DType d) {
    switch (d) {
      case DType::f32: return b.CreateFPTrunc(v, b.getFloatTy());
      case DType::f64: return v;
      default: return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {mem_type(c, d), dbl()}, {v});
    }
  }

  void body(std::vector<Value*>& vals) {
    for (size_t k = 0; k < s.ops.size(); ++k) {
      const KOp& op = s.ops[k];
      const std::string& p = op.prim;
      if (p.rfind("reduce_", 0) == 0) {
        Value* v = to_double(arg(op, 0, vals), op.arg_dtypes[0]);
        if (s.red == RedKind::row) {
          int out = output_slot((int)k);
          Value* at = b.CreateInBoundsGEP(dbl(), ptr[out], i);
          b.CreateStore(combine(p, b.CreateLoad(dbl(), at), v), at);
        } else {
          b.CreateStore(combine(p, b.CreateLoad(dbl(), acc[k]), v), acc[k]);
        }
        vals[k] = nullptr;
        continue;
      }
      Value* r;
      if (p == "reshape" || p == "broadcast") r = arg(op, 0, vals);
      else if (p == "convert") r = convert(arg(op, 0, vals), op.arg_dtypes[0], op.dtype);
      else if (p == "select") r = b.CreateSelect(truth(arg(op, 0, vals)), arg(op, 1, vals), arg(op, 2, vals));
      else if (op.args.size() == 1) r = unary(p, arg(op, 0, vals), op.arg_dtypes[0]);
      else r = binary(p, arg(op, 0, vals), arg(op, 1, vals), op.arg_dtypes[0]);
      vals[k] = r;
    }
    // Element-wise outputs.
    for (size_t o = 0; o < s.outputs.size(); ++o) {
      int k = s.outputs[o];
      if (s.ops[k].prim.rfind("reduce_", 0) == 0) continue;
      llvm::Type* t = mem_type(c, s.ops[k].dtype);
      b.CreateStore(vals[k], b.CreateInBoundsGEP(t, ptr[s.input_dtypes.size() + o], lin));
    }
  }

  int output_slot(int op) {
    for (size_t o = 0; o < s.outputs.size(); ++o)
      if (s.outputs[o] == op) return (int)(s.input_dtypes.size() + o);
    fail("internal", "llvm backend: reduction without an output");
  }

  bool is_red(size_t k) const { return s.ops[k].prim.rfind("reduce_", 0) == 0; }

  // impl(ptr noalias p0, ..., i64 rows, ilo, ihi, jlo, jhi, ptr noalias red)
  llvm::Function* impl(const std::string& name) {
    size_t np = s.input_dtypes.size() + s.outputs.size();
    std::vector<llvm::Type*> ps(np, b.getPtrTy());
    for (int k = 0; k < 5; ++k) ps.push_back(b.getInt64Ty());
    ps.push_back(b.getPtrTy());
    auto* ft = llvm::FunctionType::get(b.getVoidTy(), ps, false);
    fn = llvm::Function::Create(ft, llvm::Function::InternalLinkage, name + ".impl", m);
    fn->addFnAttr(llvm::Attribute::AlwaysInline);
    for (size_t k = 0; k < np + 6; ++k)
      if (k < np || k == np + 5) fn->addParamAttr((unsigned)k, llvm::Attribute::NoAlias);
    auto ait = fn->arg_begin();
    for (size_t k = 0; k < np; ++k) ptr.push_back(&*ait++);
    rows = &*ait++; ilo = &*ait++; ihi = &*ait++; jlo = &*ait++; jhi = &*ait++; red = &*ait++;

    auto* entry = llvm::BasicBlock::Create(c, "entry", fn);
    auto* outer = llvm::BasicBlock::Create(c, "outer", fn);
    auto* obody = llvm::BasicBlock::Create(c, "outer.body", fn);
    auto* inner = llvm::BasicBlock::Create(c, "inner", fn);
    auto* ibody = llvm::BasicBlock::Create(c, "inner.body", fn);
    auto* iexit = llvm::BasicBlock::Create(c, "inner.exit", fn);
    auto* exit = llvm::BasicBlock::Create(c, "exit", fn);

    b.SetInsertPoint(entry);
    hoisted.assign(s.input_dtypes.size(), nullptr);
    std::vector<IndexMap> map_of(s.input_dtypes.size(), IndexMap::linear);
    for (auto& op : s.ops)
      for (auto& r : op.args)
        if (r.kind == KRef::input) map_of[r.index] = r.map;
    for (size_t in = 0; in < map_of.size(); ++in)
      if (map_of[in] == IndexMap::scalar) hoisted[in] = b.CreateLoad(mem_type(c, s.input_dtypes[in]), ptr[in]);
    acc.assign(s.ops.size(), nullptr);
    for (size_t k = 0; k < s.ops.size(); ++k)
      if (is_red(k) && s.red != RedKind::row) {
        acc[k] = b.CreateAlloca(dbl());
        b.CreateStore(llvm::ConstantFP::get(dbl(), red_init(s.ops[k].prim)), acc[k]);
      }
    b.CreateBr(outer);

    b.SetInsertPoint(outer);
    auto* jphi = b.CreatePHI(b.getInt64Ty(), 2);
    jphi->addIncoming(jlo, entry);
    j = jphi;
    b.CreateCondBr(b.CreateICmpSLT(j, jhi), obody, exit);

    b.SetInsertPoint(obody);
    for (size_t in = 0; in < map_of.size(); ++in)
      if (map_of[in] == IndexMap::row) {
        llvm::Type* t = mem_type(c, s.input_dtypes[in]);
        hoisted[in] = b.CreateLoad(t, b.CreateInBoundsGEP(t, ptr[in], j));
      }
    if (s.red == RedKind::col)
      for (size_t k = 0; k < s.ops.size(); ++k)
        if (is_red(k)) b.CreateStore(llvm::ConstantFP::get(dbl(), red_init(s.ops[k].prim)), acc[k]);
    Value* base = b.CreateMul(j, rows);
    b.CreateBr(inner);

    b.SetInsertPoint(inner);
    auto* iphi = b.CreatePHI(b.getInt64Ty(), 2);
    iphi->addIncoming(ilo, obody);
    i = iphi;
    b.CreateCondBr(b.CreateICmpSLT(i, ihi), ibody, iexit);

    b.SetInsertPoint(ibody);
    lin = b.CreateAdd(base, i);
    std::vector<Value*> vals(s.ops.size(), nullptr);
    body(vals);
    iphi->addIncoming(b.CreateAdd(i, b.getInt64(1)), b.GetInsertBlock());
    b.CreateBr(inner);
    for (size_t in = 0; in < map_of.size(); ++in)
      if (map_of[in] == IndexMap::row) hoisted[in] = nullptr;

    b.SetInsertPoint(iexit);
    if (s.red == RedKind::col)
      for (size_t k = 0; k < s.ops.size(); ++k)
        if (is_red(k)) {
          int out = output_slot((int)k);
          llvm::Type* t = mem_type(c, s.ops[k].dtype);
          b.CreateStore(from_double(b.CreateLoad(dbl(), acc[k]), s.ops[k].dtype), b.CreateInBoundsGEP(t, ptr[out], j));
        }
    jphi->addIncoming(b.CreateAdd(j, b.getInt64(1)), iexit);
    b.CreateBr(outer);

    b.SetInsertPoint(exit);
    if (s.red == RedKind::all)
      for (size_t k = 0; k < s.ops.size(); ++k)
        if (is_red(k)) b.CreateStore(b.CreateLoad(dbl(), acc[k]), b.CreateInBoundsGEP(dbl(), red, b.getInt64(s.ops[k].red_slot)));
    b.CreateRetVoid();
    return fn;
  }
};

}  // namespace

void emit_kernel(llvm::Module& m, const std::string& name, const KernelSpec& spec, const TargetDesc& target) {
  Gen g(m, spec);
  llvm::Function* impl = g.impl(name);
  llvm::IRBuilder<>& b = g.b;
  // The exported entry unpacks the pointer array; after inlining, impl's
  // noalias parameters become alias scopes on the loop's loads and stores.
  std::vector<llvm::Type*> ps = {b.getPtrTy()};
  for (int k = 0; k < 5; ++k) ps.push_back(b.getInt64Ty());
  ps.push_back(b.getPtrTy());
  auto* fn = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), ps, false), llvm::Function::ExternalLinkage, name, m);
  for (llvm::Function* f : {fn, impl}) {
    f->addFnAttr(llvm::Attribute::NoUnwind);
    if (!target.cpu.empty()) f->addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty()) f->addFnAttr("target-features", target.features);
    // The O3 pipeline emits 256-bit vectors on AVX-512 machines unless asked.
    if (target.avx512) f->addFnAttr("prefer-vector-width", "512");
  }
  auto* entry = llvm::BasicBlock::Create(m.getContext(), "entry", fn);
  b.SetInsertPoint(entry);
  auto ait = fn->arg_begin();
  Value* ptrs = &*ait++;
  std::vector<Value*> args;
  size_t np = spec.input_dtypes.size() + spec.outputs.size();
  for (size_t k = 0; k < np; ++k)
    args.push_back(b.CreateLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getPtrTy(), ptrs, k)));
  for (; ait != fn->arg_end(); ++ait) args.push_back(&*ait);
  b.CreateCall(impl, args);
  b.CreateRetVoid();
  std::string err;
  llvm::raw_string_ostream es(err);
  if (llvm::verifyFunction(*impl, &es) || llvm::verifyFunction(*fn, &es))
    fail("internal", "llvm backend generated invalid IR: " + es.str());
}

}  // namespace rj
