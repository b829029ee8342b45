// Kernel code generation: a two-level loop nest (columns j outside, rows i
// inside) whose body computes every op of the kernel for one element. The
// body renders each member's scalar description (src/ir/scalar.h) through
// LlvmScalar, a ScalarBuilder emitting IR, and each reduction's monoid the
// same way: nothing here knows what any primitive computes. The body is
// plain scalar IR; LLVM's O3 pipeline vectorises the inner loop (pointers
// are noalias, reassociable monoids use reassociable adds), and the
// polynomial exp/log/tanh of math.cpp vectorise with it. Warnings raised by
// descriptions are ORed into a kernel-local flag word and, when non-zero,
// into the process status word once per call.
#include "codegen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cstring>
#include <limits>

#include "../../ir/scalar.h"
#include "math.h"

namespace rj {
namespace {

using llvm::Value;

constexpr int kMaxVectorisedCalls = 4;  // more scalar C calls in a body: the loop stays scalar

llvm::Type* mem_type(llvm::LLVMContext& c, DType d) {
  switch (d) {
    case DType::f32: return llvm::Type::getFloatTy(c);
    case DType::f64: return llvm::Type::getDoubleTy(c);
    case DType::i32: return llvm::Type::getInt32Ty(c);
    case DType::b8: return llvm::Type::getInt8Ty(c);
  }
  return nullptr;
}

// The LLVM renderer of scalar descriptions: every basis op of
// src/ir/scalar.h as IRBuilder code, inside the kernel's loop body.
struct LlvmScalar : ScalarBuilder {
  llvm::Module& m;
  llvm::LLVMContext& c;
  llvm::IRBuilder<>& b;
  llvm::Value* flags = nullptr;  // i32 alloca: warnings raised by this kernel
  bool used_flags = false;
  int scalar_calls = 0;  // calls to scalar C functions (the vectoriser can only scalarise them)
  std::vector<Value*> vals;

  bool vector_sincos = false;

  LlvmScalar(llvm::Module& mod, llvm::IRBuilder<>& builder) : m(mod), c(mod.getContext()), b(builder) {}

  SVal wrap(Value* v, DType d) {
    vals.push_back(v);
    return SVal{(int)vals.size() - 1, d};
  }
  Value* v(SVal s) { return vals.at(s.id); }
  llvm::Type* ty(DType d) { return mem_type(c, d); }
  Value* truth(Value* x) { return b.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0)); }
  Value* boolean(Value* i1) { return b.CreateZExt(i1, b.getInt8Ty()); }
  Value* intr(llvm::Intrinsic::ID id, Value* x) { return b.CreateUnaryIntrinsic(id, x); }

  SVal constant(double x, DType d) override {
    switch (d) {
      case DType::f64: {
        uint64_t bits;
        std::memcpy(&bits, &x, 8);  // bit-exact: R's NA_real_ keeps its payload
        return wrap(llvm::ConstantFP::get(c, llvm::APFloat(llvm::APFloat::IEEEdouble(), llvm::APInt(64, bits))), d);
      }
      case DType::f32: return wrap(llvm::ConstantFP::get(ty(d), x), d);
      case DType::i32: {
        int32_t i = x != x ? 0 : x >= 2147483647.0 ? INT32_MAX : x <= -2147483648.0 ? INT32_MIN : (int32_t)x;
        return wrap(llvm::ConstantInt::get(ty(d), (uint64_t)(int64_t)i, true), d);
      }
      case DType::b8: return wrap(llvm::ConstantInt::get(ty(d), (uint64_t)(uint8_t)x), d);
    }
    return SVal{};
  }

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
    if (!(vector_sincos && (name == "sin" || name == "cos"))) ++scalar_calls;
    return b.CreateCall(callee, args);
  }

  SVal call_special(const SpecialFn& f, const std::vector<SVal>& args) override {
    std::vector<llvm::Type*> ts(args.size(), b.getDoubleTy());
    auto callee = m.getOrInsertFunction(f.symbol, llvm::FunctionType::get(b.getDoubleTy(), ts, false));
    if (auto* fn = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
      fn->setDoesNotThrow();
      fn->setDoesNotAccessMemory();
    }
    DType d = args[0].dtype;
    std::vector<Value*> xs;
    for (auto& a : args) xs.push_back(d == DType::f32 ? b.CreateFPExt(v(a), b.getDoubleTy()) : v(a));
    ++scalar_calls;
    Value* r = b.CreateCall(callee, xs);
    return wrap(d == DType::f32 ? b.CreateFPTrunc(r, ty(d)) : r, d);
  }

  void warn_if(SVal cnd, uint32_t code) override {
    used_flags = true;
    Value* bit = b.CreateSelect(truth(v(cnd)), b.getInt32(code), b.getInt32(0));
    b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt32Ty(), flags), bit), flags);
  }

  // i32 division family; a zero divisor gives 0 and -1 is special-cased so
  // that INT_MIN / -1 cannot trap (the basis semantics of scalar.h).
  Value* int_div(Value* a, Value* d, SOp o) {
    llvm::Type* t = a->getType();
    Value *zero = llvm::ConstantInt::get(t, 0), *one = llvm::ConstantInt::get(t, 1),
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
    if (o == SOp::floormod) res = b.CreateSelect(adjust, b.CreateAdd(r, d), r);
    else if (o == SOp::floordiv) res = b.CreateSelect(adjust, b.CreateSub(q, one), q);
    else res = q;
    return b.CreateSelect(dz, zero, res);
  }

  Value* cmp(SOp o, Value* x, Value* y, DType d) {
    using P = llvm::CmpInst::Predicate;
    bool fl = is_float(d), un = d == DType::b8;
    P pr = P::ICMP_EQ;
    switch (o) {
      case SOp::eq: pr = fl ? P::FCMP_OEQ : P::ICMP_EQ; break;
      case SOp::ne: pr = fl ? P::FCMP_UNE : P::ICMP_NE; break;
      case SOp::lt: pr = fl ? P::FCMP_OLT : un ? P::ICMP_ULT : P::ICMP_SLT; break;
      case SOp::le: pr = fl ? P::FCMP_OLE : un ? P::ICMP_ULE : P::ICMP_SLE; break;
      case SOp::gt: pr = fl ? P::FCMP_OGT : un ? P::ICMP_UGT : P::ICMP_SGT; break;
      case SOp::ge: pr = fl ? P::FCMP_OGE : un ? P::ICMP_UGE : P::ICMP_SGE; break;
      default: break;
    }
    return fl ? b.CreateFCmp(pr, x, y) : b.CreateICmp(pr, x, y);
  }

  Value* convert(Value* x, DType from, DType to) {
    if (from == to) return x;
    llvm::Type* t = ty(to);
    if (to == DType::b8) return boolean(is_float(from) ? b.CreateFCmpUNE(x, llvm::ConstantFP::get(x->getType(), 0)) : truth(x));
    if (from == DType::b8) {
      Value* nz = truth(x);
      return is_float(to) ? b.CreateUIToFP(nz, t) : b.CreateZExt(nz, t);
    }
    if (is_float(to)) {
      if (is_float(from)) return from == DType::f32 ? b.CreateFPExt(x, t) : b.CreateFPTrunc(x, t);
      return b.CreateSIToFP(x, t);
    }
    return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {t, x->getType()}, {x});  // float -> i32
  }

  SVal basis(SOp o, const SVal* a, int n, DType result) override {
    const DType d = a[0].dtype;
    const bool fl = is_float(d);
    Value* x = v(a[0]);
    Value* y = n > 1 ? v(a[1]) : nullptr;
    Value* r = nullptr;
    switch (o) {
      case SOp::add: r = fl ? b.CreateFAdd(x, y) : b.CreateAdd(x, y); break;
      case SOp::sub: r = fl ? b.CreateFSub(x, y) : b.CreateSub(x, y); break;
      case SOp::mul: r = fl ? b.CreateFMul(x, y) : b.CreateMul(x, y); break;
      case SOp::div: r = fl ? b.CreateFDiv(x, y) : int_div(x, y, o); break;
      case SOp::floordiv:
      case SOp::floormod: r = int_div(x, y, o); break;
      case SOp::neg: r = fl ? b.CreateFNeg(x) : b.CreateNeg(x); break;
      case SOp::abs:
        r = fl ? intr(llvm::Intrinsic::fabs, x)
               : b.CreateSelect(b.CreateICmpSLT(x, llvm::ConstantInt::get(x->getType(), 0)), b.CreateNeg(x), x);
        break;
      case SOp::min:
      case SOp::max: {
        bool mx = o == SOp::max;
        if (!fl) {
          r = b.CreateSelect(mx ? b.CreateICmpSGT(y, x) : b.CreateICmpSLT(y, x), y, x);
          break;
        }
        r = b.CreateSelect(mx ? b.CreateFCmpOGT(y, x) : b.CreateFCmpOLT(y, x), y, x);
        r = b.CreateSelect(b.CreateFCmpUNO(x, x), x, r);
        r = b.CreateSelect(b.CreateFCmpUNO(y, y), y, r);
        break;
      }
      case SOp::eq: case SOp::ne: case SOp::lt: case SOp::le: case SOp::gt: case SOp::ge:
        r = boolean(cmp(o, x, y, d));
        break;
      case SOp::and_: r = boolean(b.CreateAnd(truth(x), truth(y))); break;
      case SOp::or_: r = boolean(b.CreateOr(truth(x), truth(y))); break;
      case SOp::not_: r = boolean(b.CreateICmpEQ(x, llvm::ConstantInt::get(x->getType(), 0))); break;
      case SOp::select: r = b.CreateSelect(truth(x), y, v(a[2])); break;
      case SOp::convert: r = convert(x, d, result); break;
      case SOp::is_nan: r = fl ? boolean(b.CreateFCmpUNO(x, x)) : b.getInt8(0); break;
      case SOp::is_na_value:
        if (d == DType::f64) {
          Value* bits = b.CreateBitCast(x, b.getInt64Ty());
          Value* low = b.CreateICmpEQ(b.CreateAnd(bits, b.getInt64(0xFFFFFFFFULL)), b.getInt64(1954));
          r = boolean(b.CreateAnd(b.CreateFCmpUNO(x, x), low));
        } else if (d == DType::f32) {
          r = b.getInt8(0);
        } else if (d == DType::i32) {
          r = boolean(b.CreateICmpEQ(x, b.getInt32((uint32_t)kNAInt)));
        } else {
          r = boolean(b.CreateICmpEQ(x, b.getInt8(kNABool)));
        }
        break;
      case SOp::floor: r = intr(llvm::Intrinsic::floor, x); break;
      case SOp::ceil: r = intr(llvm::Intrinsic::ceil, x); break;
      case SOp::trunc: r = intr(llvm::Intrinsic::trunc, x); break;
      case SOp::rint: r = intr(llvm::Intrinsic::rint, x); break;  // nearbyint in the default rounding mode
      case SOp::sqrt: r = intr(llvm::Intrinsic::sqrt, x); break;
      // The vectorisable polynomials of math.cpp are this renderer's exp, log,
      // tanh, log1p and expm1.
      case SOp::exp: r = emit_exp(b, x); break;
      case SOp::log: r = emit_log(b, x); break;
      case SOp::tanh: r = emit_tanh(b, x); break;
      case SOp::log1p: r = emit_log1p(b, x); break;
      case SOp::expm1: r = emit_expm1(b, x); break;
      case SOp::atan2: r = libm("atan2", {x, y}, d); break;
      case SOp::pow: r = libm("pow", {x, y}, d); break;
      default: r = libm(sop_name(o), {x}, d); break;  // sin, ..., tgamma: the C library
    }
    return wrap(r, result);
  }
};

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
  LlvmScalar sb;

  Gen(llvm::Module& mod, const KernelSpec& spec) : m(mod), c(mod.getContext()), s(spec), b(mod.getContext()), sb(mod, b) {}

  llvm::Type* dbl() { return b.getDoubleTy(); }
  const PrimDef& def(const KOp& op) const { return prim(op.prim); }
  bool is_red(size_t k) const { return prim(s.ops[k].prim).reduces; }
  const Monoid& monoid(size_t k) const { return *prim(s.ops[k].prim).monoid; }
  Value* identity(size_t k) { return llvm::ConstantFP::get(dbl(), monoid(k).identity(s.ops[k].arg_dtypes[0])); }

  Value* load(int input, IndexMap map, int64_t offset, int64_t ld) {
    if (hoisted[input]) return hoisted[input];
    llvm::Type* t = mem_type(c, s.input_dtypes[input]);
    Value* idx = map == IndexMap::col ? i : lin;
    if (ld) idx = b.CreateAdd(i, b.CreateMul(j, b.getInt64(ld)));  // a row range X[a:b, ]: columns ld apart
    if (offset) idx = b.CreateAdd(idx, b.getInt64(offset));  // a slice x[a:b] read in place
    return b.CreateLoad(t, b.CreateInBoundsGEP(t, ptr[input], idx));
  }

  Value* arg(const KOp& op, size_t a, const std::vector<Value*>& vals) {
    const KRef& r = op.args[a];
    if (r.kind == KRef::op) return vals[r.index];
    if (r.kind == KRef::imm) return sb.v(sb.constant(r.value, op.arg_dtypes[a]));
    return load(r.index, r.map, r.offset, r.ld);
  }

  // acc' = combine(acc, lift(x)) of op k's monoid (reassociable when the
  // monoid allows it, so that the vectoriser can split a sum into lanes).
  Value* step(size_t k, Value* a, Value* x) {
    const Monoid& M = monoid(k);
    const DType in = s.ops[k].arg_dtypes[0];
    llvm::FastMathFlags saved = b.getFastMathFlags();
    if (M.reassociative) {
      llvm::FastMathFlags fm;
      fm.setAllowReassoc();
      b.setFastMathFlags(fm);
    }
    SVal lifted = M.lift(sb, sb.wrap(x, in), in);
    Value* r = sb.v(M.combine(sb, sb.wrap(a, DType::f64), lifted, in));
    b.setFastMathFlags(saved);
    return r;
  }
  Value* finish(size_t k, Value* a) {
    const Monoid& M = monoid(k);
    return sb.v(M.finish(sb, sb.wrap(a, DType::f64), s.ops[k].arg_dtypes[0], s.ops[k].dtype));
  }

  void body(std::vector<Value*>& vals) {
    for (size_t k = 0; k < s.ops.size(); ++k) {
      const KOp& op = s.ops[k];
      const PrimDef& p = def(op);
      if (p.reduces) {
        Value* x = arg(op, 0, vals);
        if (s.red == RedKind::row) {
          int out = output_slot((int)k);
          Value* at = b.CreateInBoundsGEP(dbl(), ptr[out], i);
          b.CreateStore(step(k, b.CreateLoad(dbl(), at), x), at);
        } else {
          b.CreateStore(step(k, b.CreateLoad(dbl(), acc[k]), x), acc[k]);
        }
        vals[k] = nullptr;
        continue;
      }
      if (is_index_map(op)) {
        vals[k] = arg(op, 0, vals);
        continue;
      }
      // An element-wise primitive: its one scalar description, rendered here.
      std::vector<SVal> args;
      for (size_t a = 0; a < op.args.size(); ++a) args.push_back(sb.wrap(arg(op, a, vals), op.arg_dtypes[a]));
      SVal r = p.scalar(sb, args, op.attrs);
      if (r.dtype != op.dtype) fail("internal", "llvm backend: " + p.name + " gives " + dtype_name(r.dtype));
      vals[k] = sb.v(r);
    }
    // Element-wise outputs.
    for (size_t o = 0; o < s.outputs.size(); ++o) {
      int k = s.outputs[o];
      if (is_red(k)) continue;
      llvm::Type* t = mem_type(c, s.ops[k].dtype);
      b.CreateStore(vals[k], b.CreateInBoundsGEP(t, ptr[s.input_dtypes.size() + o], lin));
    }
  }

  int output_slot(int op) {
    for (size_t o = 0; o < s.outputs.size(); ++o)
      if (s.outputs[o] == op) return (int)(s.input_dtypes.size() + o);
    fail("internal", "llvm backend: reduction without an output");
  }

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
        b.CreateStore(identity(k), acc[k]);
      }
    sb.flags = b.CreateAlloca(b.getInt32Ty());
    b.CreateStore(b.getInt32(0), sb.flags);
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
        if (is_red(k)) b.CreateStore(identity(k), acc[k]);
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
    llvm::BranchInst* latch = b.CreateBr(inner);
    // A body of many scalar C calls gains nothing from vectorising (each
    // call is repeated lane by lane) and costs the vectoriser and the code
    // generator several times the scalar loop: keep such loops scalar.
    if (sb.scalar_calls > kMaxVectorisedCalls) {
      llvm::Metadata* off[] = {llvm::MDString::get(c, "llvm.loop.vectorize.enable"),
                               llvm::ConstantAsMetadata::get(b.getFalse())};
      llvm::Metadata* il[] = {llvm::MDString::get(c, "llvm.loop.interleave.count"),
                              llvm::ConstantAsMetadata::get(b.getInt32(1))};
      llvm::Metadata* ops[] = {nullptr, llvm::MDNode::get(c, off), llvm::MDNode::get(c, il)};
      llvm::MDNode* loop = llvm::MDNode::getDistinct(c, ops);
      loop->replaceOperandWith(0, loop);
      latch->setMetadata(llvm::LLVMContext::MD_loop, loop);
    }
    for (size_t in = 0; in < map_of.size(); ++in)
      if (map_of[in] == IndexMap::row) hoisted[in] = nullptr;

    b.SetInsertPoint(iexit);
    if (s.red == RedKind::col)
      for (size_t k = 0; k < s.ops.size(); ++k)
        if (is_red(k)) {
          int out = output_slot((int)k);
          llvm::Type* t = mem_type(c, s.ops[k].dtype);
          b.CreateStore(finish(k, b.CreateLoad(dbl(), acc[k])), b.CreateInBoundsGEP(t, ptr[out], j));
        }
    jphi->addIncoming(b.CreateAdd(j, b.getInt64(1)), iexit);
    b.CreateBr(outer);

    b.SetInsertPoint(exit);
    if (s.red == RedKind::all)
      for (size_t k = 0; k < s.ops.size(); ++k)
        if (is_red(k)) b.CreateStore(b.CreateLoad(dbl(), acc[k]), b.CreateInBoundsGEP(dbl(), red, b.getInt64(s.ops[k].red_slot)));
    if (sb.used_flags) {  // warnings: OR this call's flags into the status word (src/runtime/status.h)
      Value* f = b.CreateLoad(b.getInt32Ty(), sb.flags);
      auto* raise = llvm::BasicBlock::Create(c, "warn", fn);
      auto* done = llvm::BasicBlock::Create(c, "done", fn);
      b.CreateCondBr(b.CreateICmpNE(f, b.getInt32(0)), raise, done);
      b.SetInsertPoint(raise);
      auto* word = llvm::cast<llvm::GlobalVariable>(m.getOrInsertGlobal("rj_status_word", b.getInt32Ty()));
      b.CreateAtomicRMW(llvm::AtomicRMWInst::Or, word, f, llvm::MaybeAlign(4), llvm::AtomicOrdering::Monotonic);
      b.CreateBr(done);
      b.SetInsertPoint(done);
    }
    b.CreateRetVoid();
    return fn;
  }
};

}  // namespace

void emit_kernel(llvm::Module& m, const std::string& name, const KernelSpec& spec, const TargetDesc& target) {
  Gen g(m, spec);
  g.sb.vector_sincos = target.vector_sincos;
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
