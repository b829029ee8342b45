// The LLVM session: one ORC LLJIT for the process, the host target machine,
// the O3 pipeline, and the compile cache of kernels keyed by their
// structural description (KernelSpec::key()). Each compiled batch of kernels
// is a module with its own resource tracker, removed from the JIT when the
// last executable using it is gone (see jit.h).
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <chrono>
#include <mutex>
#include <unordered_map>

#include "../../ir/scalar.h"
#include "../../runtime/status.h"
#include "codegen.h"
#include "jit.h"
#include "kernel_spec.h"
#include "objcache.h"

namespace rj {
namespace {

std::string take(llvm::Error e) {
  std::string s;
  llvm::handleAllErrors(std::move(e), [&](const llvm::ErrorInfoBase& ei) { s = ei.message(); });
  return s;
}

template <class T>
T check(llvm::Expected<T> v, const char* what) {
  if (!v) fail("backend", std::string("llvm backend: ") + what + ": " + take(v.takeError()));
  return std::move(*v);
}

struct CacheEntry {
  KernelFn fn = nullptr;
  std::weak_ptr<KernelModule> module;
};

struct Session {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<llvm::TargetMachine> tm;
  TargetDesc target;
  std::unordered_map<std::string, CacheEntry> cache;
  int64_t counter = 0;
  int64_t live_modules = 0;

  Session() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
    jtmb.setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
    target.cpu = jtmb.getCPU();
    target.features = jtmb.getFeatures().getString();
    target.avx512 = target.features.find("+avx512f") != std::string::npos;
    tm = check(jtmb.createTargetMachine(), "creating the target machine");
    // The compiler hands each object to the persistent cache (objcache.h).
    auto compiler = [](llvm::orc::JITTargetMachineBuilder b)
        -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
      auto t = b.createTargetMachine();
      if (!t) return t.takeError();
      return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(std::move(*t), persistent_object_cache());
    };
    jit = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).setCompileFunctionCreator(compiler).create(),
                "creating the JIT");
    auto& jd = jit->getMainJITDylib();
    char prefix = jit->getDataLayout().getGlobalPrefix();
    jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix), "process symbols"));
    llvm::orc::SymbolMap syms;
    auto def = [&](const char* name, void* addr) {
#if LLVM_VERSION_MAJOR >= 17
      syms[jit->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(addr), llvm::JITSymbolFlags::Exported};
#else
      syms[jit->mangleAndIntern(name)] = llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(addr), llvm::JITSymbolFlags::Exported);
#endif
    };
    // The special functions scalar descriptions call by name, and the
    // warning status word generated code ORs into.
    for (const SpecialFn& f : special_fns()) def(f.symbol, f.fn);
    def("rj_status_word", (void*)rj_status_word());
    if (auto err = jd.define(llvm::orc::absoluteSymbols(std::move(syms))))
      fail("backend", "llvm backend: registering helpers: " + take(std::move(err)));
  }

  void optimize(llvm::Module& m) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions pto;
    pto.LoopVectorization = true;
    pto.SLPVectorization = true;
    llvm::PassBuilder pb(tm.get(), pto);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
  }

  std::string assembly(llvm::Module& m) {
    auto copy = llvm::CloneModule(m);
    llvm::SmallString<4096> buf;
    llvm::raw_svector_ostream os(buf);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CGFT_AssemblyFile)) return "(assembly output unavailable)\n";
    pm.run(*copy);
    return std::string(buf.str());
  }
};

Session& session() {
  // Created on first use and never destroyed: compiled code must stay valid
  // for as long as any executable (an R object) may call it.
  static Session* s = new Session();
  return *s;
}

// Recursive: a module can be released (its destructor takes the lock) while
// compile_kernel_set() holds it, when an error unwinds a half-built result.
std::recursive_mutex& session_mutex() {
  static std::recursive_mutex* m = new std::recursive_mutex;  // never destroyed, as the session
  return *m;
}

}  // namespace

struct KernelModule {
  llvm::orc::ResourceTrackerSP tracker;
  std::vector<std::string> keys;  // its kernels in the compile cache

  ~KernelModule() {
    std::lock_guard<std::recursive_mutex> lk(session_mutex());
    Session& s = session();
    for (const std::string& k : keys) {
      auto it = s.cache.find(k);
      if (it != s.cache.end() && it->second.module.expired()) s.cache.erase(it);
    }
    if (tracker)
      if (auto err = tracker->remove()) take(std::move(err));  // nothing to do about a failure here
    --s.live_modules;
  }
};

JitStats llvm_jit_stats() {
  std::lock_guard<std::recursive_mutex> lk(session_mutex());
  JitStats st;
  st.modules = session().live_modules;
  st.kernels = (int64_t)session().cache.size();
  return st;
}

std::string llvm_host_description() {
  std::lock_guard<std::recursive_mutex> lk(session_mutex());
  Session& s = session();
  return s.target.cpu + " " + s.target.features;
}

CompiledKernels compile_kernel_set(const std::vector<KernelSpec>& specs, std::string* dump) {
  std::lock_guard<std::recursive_mutex> lk(session_mutex());
  Session& s = session();
  using clk = std::chrono::steady_clock;
  auto secs = [](clk::time_point a, clk::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  auto t0 = clk::now();
  CompiledKernels out;
  out.fns.assign(specs.size(), nullptr);
  std::vector<std::string> keys(specs.size());
  auto hold = [&](const std::shared_ptr<KernelModule>& m) {
    for (auto& h : out.modules)
      if (h == m) return;
    out.modules.push_back(m);
  };
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("rjax_kernels", *ctx);
  mod->setDataLayout(s.tm->createDataLayout());
  mod->setTargetTriple(s.tm->getTargetTriple().str());
  std::unordered_map<std::string, std::string> fresh;  // key -> symbol, compiled in this module
  std::vector<size_t> todo;                            // specs compiled in this module, in order
  bool releasing = false;  // a module with some of these kernels may still hold their names
  for (size_t k = 0; k < specs.size(); ++k) {
    keys[k] = specs[k].key();
    auto it = s.cache.find(keys[k]);
    if (it != s.cache.end()) {
      if (auto m = it->second.module.lock()) {
        out.fns[k] = it->second.fn;
        hold(m);
        continue;
      }
      s.cache.erase(it);  // its module is being released
      releasing = true;
    }
    if (fresh.count(keys[k])) continue;
    fresh[keys[k]] = "";
    todo.push_back(k);
  }
  if (fresh.empty()) return out;
  // The persistent cache (objcache.h): deterministic kernel names, and on a
  // hit the module's object code instead of IR generation and compilation.
  std::vector<std::string> todo_keys;
  for (size_t k : todo) todo_keys.push_back(keys[k]);
  ObjCacheEntry pc = releasing ? ObjCacheEntry{} : object_cache_lookup(todo_keys, s.target.cpu, s.target.features);
  for (size_t j = 0; j < todo.size(); ++j) {
    std::string name = releasing ? "rj_kernel_" + std::to_string(s.counter++) : pc.symbol_prefix + std::to_string(j);
    if (!pc.object) emit_kernel(*mod, name, specs[todo[j]], s.target);
    fresh[keys[todo[j]]] = name;
  }
  auto t1 = clk::now();
  if (!pc.object) s.optimize(*mod);
  auto t2 = clk::now();
  out.seconds_ir = secs(t0, t1);
  out.seconds_optimise = secs(t1, t2);
  if (!pc.module_id.empty()) mod->setModuleIdentifier(pc.module_id);
  if (dump && pc.object) *dump += "; (kernels loaded from the persistent compile cache)\n";
  if (dump && !pc.object) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    mod->print(os, nullptr);
    *dump += "; ---- LLVM IR (optimised) ----\n" + os.str() + "\n; ---- assembly ----\n" + s.assembly(*mod);
  }
  auto km = std::make_shared<KernelModule>();
  km->tracker = s.jit->getMainJITDylib().createResourceTracker();
  ++s.live_modules;
  if (auto err = pc.object ? s.jit->addObjectFile(km->tracker, std::move(pc.object))
                           : s.jit->addIRModule(km->tracker, llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))))
    fail("backend", "llvm backend: adding a module: " + take(std::move(err)));
  for (auto& kv : fresh) {
    auto addr = check(s.jit->lookup(kv.second), "looking up a kernel");
#if LLVM_VERSION_MAJOR >= 15
    KernelFn fn = addr.toPtr<KernelFn>();
#else
    KernelFn fn = (KernelFn)addr.getAddress();
#endif
    s.cache[kv.first] = CacheEntry{fn, km};
    km->keys.push_back(kv.first);
  }
  hold(km);
  out.seconds_machine_code = secs(t2, clk::now());
  out.n_compiled = (int)fresh.size();
  for (size_t k = 0; k < specs.size(); ++k)
    if (!out.fns[k]) out.fns[k] = s.cache.at(keys[k]).fn;
  return out;
}

// The kernels of this older interface stay in the JIT for the session.
std::vector<KernelFn> compile_kernels(const std::vector<KernelSpec>& specs, std::string* dump) {
  CompiledKernels c = compile_kernel_set(specs, dump);
  std::lock_guard<std::recursive_mutex> lk(session_mutex());
  static auto* pinned = new std::vector<std::shared_ptr<KernelModule>>;
  pinned->insert(pinned->end(), c.modules.begin(), c.modules.end());
  return c.fns;
}

}  // namespace rj
