// rjax-run: runs a program exported by jit_export() without R.
// Built by tools/core/Makefile (build/core/rjax-run) and by the package
// (installed as system.file("bin", "rjax-run", package = "rjax")).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "ir/serialize.h"
#include "ir/version.h"
#include "runtime/npy.h"

using namespace rj;

static const char* kUsage =
    "usage: rjax-run PROGRAM [INPUT ...] [options]\n"
    "\n"
    "Runs PROGRAM, a file written by rjax's jit_export(), on the inputs given\n"
    "as NumPy .npy files, and writes each output to OUTDIR/out<k>.npy (k = 1, 2, ...).\n"
    "\n"
    "  INPUT            FILE.npy (inputs in the program's order) or LABEL=FILE.npy\n"
    "                   (by the argument path jit_export() recorded, e.g. x or params$M)\n"
    "  --backend NAME   interp or llvm (default llvm); any backend the build has\n"
    "  --out OUTDIR     where outputs go (default .); --no-out writes none\n"
    "  --cache-dir DIR  keep compiled code in DIR between runs (the persistent\n"
    "                   compile cache, as R's options(rjax.cache_dir); also $RJAX_CACHE_DIR)\n"
    "  --repeat N       run N times after one warm-up run and print\n"
    "                   'repeat=N median_ms=... min_ms=...'\n"
    "  --info           print the program's inputs and outputs and exit\n"
    "  --print          print the program (its IR) and exit\n"
    "  --version        print rjax's version and the program format version\n"
    "  --help           this text\n"
    "\n"
    "Arrays are column-major as in R: outputs are written with fortran_order=True\n"
    "and R's dims, so numpy.load() returns the array R has. An input's dtype and\n"
    "shape must equal the program's (see --info); dtypes f64 (<f8), f32 (<f4),\n"
    "i32 (<i4) and bool (|b1).\n"
    "Exit status: 0 success, 1 error (message on stderr), 2 usage error.\n";

static int usage_error(const std::string& msg) {
  std::cerr << "rjax-run: " << msg << "\n(rjax-run --help for usage)\n";
  return 2;
}

static std::string label_of(const Graph& g, int v) {
  const std::string& l = g.nodes[v].label;
  return l.empty() ? "?" : l;
}

int main(int argc, char** argv) {
  std::string program, backend = "llvm", outdir = ".";
  std::vector<std::string> inputs;
  long repeat = 0;
  bool info = false, print = false, write = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* opt) -> std::string {
      if (i + 1 >= argc) throw std::string(opt) + " needs a value";
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") {
        std::cout << kUsage;
        return 0;
      } else if (a == "--version") {
        std::cout << "rjax-run " RJAX_VERSION " (program format " << kFormatVersion << ")\n";
        return 0;
      } else if (a == "--backend") {
        backend = value("--backend");
      } else if (a == "--out") {
        outdir = value("--out");
      } else if (a == "--cache-dir") {
        std::string d = value("--cache-dir");
        setenv("RJAX_CACHE_DIR", d.c_str(), 1);
      } else if (a == "--no-out") {
        write = false;
      } else if (a == "--repeat") {
        std::string v = value("--repeat");
        char* end = nullptr;
        repeat = std::strtol(v.c_str(), &end, 10);
        if (!end || *end || repeat < 1) throw std::string("--repeat needs a positive integer, got '") + v + "'";
      } else if (a == "--info") {
        info = true;
      } else if (a == "--print") {
        print = true;
      } else if (a.size() > 1 && a[0] == '-' && a.find('=') == std::string::npos) {
        throw std::string("unknown option '") + a + "'";
      } else if (program.empty()) {
        program = a;
      } else {
        inputs.push_back(a);
      }
    } catch (std::string& msg) {
      return usage_error(msg);
    }
  }
  if (program.empty()) return usage_error("no PROGRAM given");
  try {
    Program p = load_program(program);
    const Graph& g = *p.graph;
    const std::vector<int> ins = g.inputs();
    if (info || print) {
      if (print) std::cout << print_graph(g);
      if (info) {
        std::cout << "inputs:\n";
        for (size_t k = 0; k < ins.size(); ++k)
          std::cout << "  " << k + 1 << " " << label_of(g, ins[k]) << " " << g.type(ins[k]).str() << "\n";
        std::cout << "outputs:\n";
        for (size_t k = 0; k < g.outputs.size(); ++k) std::cout << "  " << k + 1 << " " << g.type(g.outputs[k]).str() << "\n";
      }
      return 0;
    }
    // Inputs: positional in order, or LABEL=FILE.
    std::vector<BufferPtr> bufs(ins.size());
    size_t next = 0;
    for (const std::string& a : inputs) {
      size_t eq = a.find('=');
      size_t k;
      std::string file = a;
      if (eq != std::string::npos && a.substr(eq + 1).size() && a.compare(a.size() - 4, 4, ".npy") == 0 && a.find(".npy") > eq) {
        std::string lab = a.substr(0, eq);
        file = a.substr(eq + 1);
        k = ins.size();
        for (size_t j = 0; j < ins.size(); ++j)
          if (label_of(g, ins[j]) == lab) k = j;
        if (k == ins.size()) fail("input", "the program has no input '" + lab + "' (rjax-run --info lists them)");
      } else {
        while (next < ins.size() && bufs[next]) ++next;
        if (next >= ins.size()) fail("input", "more inputs given than the program's " + std::to_string(ins.size()));
        k = next;
      }
      if (bufs[k]) fail("input", "input " + std::to_string(k + 1) + " (" + label_of(g, ins[k]) + ") given twice");
      BufferPtr b = npy_load(file);
      const Type& want = g.type(ins[k]);
      if (b->dtype != want.dtype || b->shape != want.shape)
        fail("input", "input " + std::to_string(k + 1) + " (" + label_of(g, ins[k]) + ") from " + file + " is " +
                          Type{b->dtype, b->shape}.str() + ", the program takes " + want.str());
      bufs[k] = b;
    }
    for (size_t k = 0; k < ins.size(); ++k)
      if (!bufs[k])
        fail("input", "input " + std::to_string(k + 1) + " (" + label_of(g, ins[k]) + ", " + g.type(ins[k]).str() +
                          ") is missing (rjax-run --info lists the inputs)");
    ExecutablePtr exe = compile(p.graph, backend);
    std::vector<BufferPtr> out = exe->run(bufs);
    if (repeat > 0) {
      std::vector<double> ms;
      for (long r = 0; r < repeat; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        out = exe->run(bufs);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      double med = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
      std::printf("repeat=%ld median_ms=%.6f min_ms=%.6f backend=%s\n", repeat, med, ms[0], backend.c_str());
    }
    if (write)
      for (size_t k = 0; k < out.size(); ++k) {
        std::string path = outdir + "/out" + std::to_string(k + 1) + ".npy";
        npy_save(*out[k], path);
        std::printf("wrote %s %s\n", path.c_str(), Type{out[k]->dtype, out[k]->shape}.str().c_str());
      }
    return 0;
  } catch (Error& e) {
    std::cerr << "rjax-run: " << e.kind << " error: " << e.what() << "\n";
    return 1;
  } catch (std::exception& e) {
    std::cerr << "rjax-run: error: " << e.what() << "\n";
    return 1;
  }
}
