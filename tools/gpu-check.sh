#!/bin/sh
# rjax on a GPU, from a bare machine (CUDA toolkit, a C++ compiler, Python
# with JAX; no R): builds a standalone driver of rjax's C++ core and CUDA
# backend (tools/gpu-check/driver.cpp, g++ and dlopen; no CUDA headers),
# runs the agreement suite (every element-wise primitive, f32 and f64,
# rendered CUDA kernels vs the CPU interpreter), the JAX tutorial's PLN
# chain (1000 RAdam iterations at n = 11600, p = 114, f32) on rjax and on
# JAX (lax.scan), and writes one CSV.
#
#   sh tools/gpu-check.sh [--dry-run] [OUT_DIR]
#
# --dry-run: everything up to the first CUDA call on a machine without a
# GPU: the build, the agreement suite and a short PLN run on the host grid
# shim (the same rendered kernels compiled as host C++), NVRTC compiles of
# the kernels when libnvrtc is present, and the JAX program on the CPU when
# JAX is installed. Budget on a GPU machine: about 8 minutes.
set -eu
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-${OUT:-$ROOT/gpu-check-out}}
mkdir -p "$OUT"
CSV="$OUT/gpu-check.csv"
BUILD="$OUT/build"
mkdir -p "$BUILD"
CXX=${CXX:-g++}
log() { echo "gpu-check: $*"; }

# ---- data: the oaks counts and offsets (../shared/data/oaks or shared/data/oaks)
DATA=""
for d in "${RJAX_OAKS:-}" "$ROOT/shared/data/oaks" "$ROOT/../shared/data/oaks" /work/shared/data/oaks; do
  if [ -n "$d" ] && [ -f "$d/counts.csv" ]; then DATA=$d; break; fi
done
[ -n "$DATA" ] || { log "oaks data not found (set RJAX_OAKS)"; exit 1; }

# ---- Eigen (dense linear algebra of the core's reference kernels)
EIGEN=""
for d in "${EIGEN_INCLUDE:-}" /usr/include/eigen3 "$ROOT/shared/eigen3" "$ROOT/../shared/eigen3" \
         /usr/lib/R/site-library/RcppEigen/include /usr/local/include/eigen3; do
  if [ -n "$d" ] && [ -f "$d/Eigen/Dense" ]; then EIGEN=$d; break; fi
done
[ -n "$EIGEN" ] || { log "Eigen headers not found (set EIGEN_INCLUDE; apt-get install libeigen3-dev)"; exit 1; }

# ---- build: the core without R and without LLVM, plus the CUDA backend
log "building the driver with $CXX (Eigen: $EIGEN)"
t0=$(date +%s)
SRC="$ROOT/src"
{ echo 'static const char* kSpecialText = R"rjspecial('; cat "$SRC/prims/special.h"; echo ')rjspecial";'; } \
  > "$BUILD/special_text.h"
OBJS=""
JOBS=$(nproc 2>/dev/null || echo 2)
for f in "$SRC"/ir/*.cpp "$SRC"/prims/*.cpp "$SRC"/transforms/*.cpp "$SRC"/runtime/*.cpp "$SRC"/backend/*.cpp \
         "$SRC"/backend/interp/*.cpp "$SRC"/backend/cuda/*.cpp "$SRC"/backend/llvm/kernel_spec.cpp \
         "$ROOT"/tools/gpu-check/driver.cpp; do
  o="$BUILD/$(echo "$f" | sed "s|$ROOT/||; s|/|_|g; s|\.cpp$|.o|")"
  OBJS="$OBJS $o"
  extra=""
  case "$f" in *gemm_avx2.cpp) extra="-mavx2 -mfma" ;; esac
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ]; then
    echo "$CXX -std=c++17 -O2 -DNDEBUG -I$SRC -I$BUILD -isystem $EIGEN $extra -c $f -o $o"
  fi
done > "$BUILD/jobs.txt"
# special_text.h is found next to render.cpp first; the build dir copy serves a clean tree.
[ -f "$SRC/backend/cuda/special_text.h" ] || cp "$BUILD/special_text.h" "$SRC/backend/cuda/special_text.h"
if [ -s "$BUILD/jobs.txt" ]; then
  xargs -P "$JOBS" -I{} sh -c '{}' < "$BUILD/jobs.txt"
fi
$CXX -o "$BUILD/rjax-gpu-check" $OBJS -ldl -lpthread
t1=$(date +%s)
log "built in $((t1 - t0)) s"

echo "section,device,item,dtype,n,value,status" > "$CSV"
echo "build,host,build_s,,,$((t1 - t0)),info" >> "$CSV"
"$BUILD/rjax-gpu-check" devices | sed 's/^/gpu-check: /'

HAVE_GPU=0
if [ "$DRY" = 0 ]; then
  if "$BUILD/rjax-gpu-check" devices | grep -q '^cuda:0'; then HAVE_GPU=1; else
    log "no GPU found: running the --dry-run checks instead"; DRY=1; fi
fi

status=0
if [ "$HAVE_GPU" = 1 ]; then
  ARCH=$("$BUILD/rjax-gpu-check" devices | sed -n 's/^cuda:0 .*, \(sm_[0-9]*\)$/\1/p')
  log "NVRTC compiles for $ARCH"
  "$BUILD/rjax-gpu-check" nvrtc "$ARCH" "$CSV" || status=1
  log "agreement suite on the GPU"
  "$BUILD/rjax-gpu-check" agree cuda 100000 "$CSV" || status=1
  log "PLN chain on the GPU: n = 11600, 1000 iterations, f32"
  "$BUILD/rjax-gpu-check" pln cuda "$DATA" 11600 1000 f32 "$CSV" || status=1
else
  if "$BUILD/rjax-gpu-check" devices | grep -q '^nvrtc: *the'; then log "NVRTC not found: NVRTC compiles skipped"; else
    log "NVRTC compiles of the rendered kernels for sm_90"
    "$BUILD/rjax-gpu-check" nvrtc sm_90 "$CSV" || status=1
  fi
  log "agreement suite on the host grid shim"
  "$BUILD/rjax-gpu-check" agree shim 500 "$CSV" || status=1
  log "PLN chain, short: interpreter vs shim (n = 116, 20 iterations, f64)"
  "$BUILD/rjax-gpu-check" pln interp "$DATA" 116 20 f64 "$CSV" || status=1
  "$BUILD/rjax-gpu-check" pln shim "$DATA" 116 20 f64 "$CSV" || status=1
  # The shim runs the rendered kernels: its loss trajectory must be the interpreter's.
  awk -F, '$1 == "pln" && $3 ~ /^loss_/ { v[$2 "," $3] = $6 }
    END { ok = 1; for (k in v) { split(k, a, ","); if (a[1] == "shim") { r = v["interp," a[2]];
            if (r == "" || (v[k] - r) > 1e-9 * (r < 0 ? -r : r) || (r - v[k]) > 1e-9 * (r < 0 ? -r : r)) ok = 0 } }
          print "pln_agree,shim,loss_trajectory,f64,116," (ok ? 0 : 1) "," (ok ? "pass" : "FAIL") }' "$CSV" >> "$CSV"
fi

# ---- JAX: the tutorial's lax.scan program on the same data
PY=${PYTHON:-python3}
if $PY -c "import jax, optax" >/dev/null 2>&1; then
  if [ "$HAVE_GPU" = 1 ]; then
    log "JAX (lax.scan) on the GPU"
    $PY "$ROOT/tools/gpu-check/pln_jax.py" "$DATA" 11600 1000 f32 "$CSV" || status=1
  else
    log "JAX (lax.scan) on the CPU, short"
    JAX_PLATFORMS=cpu $PY "$ROOT/tools/gpu-check/pln_jax.py" "$DATA" 116 20 f64 "$CSV" || status=1
  fi
else
  log "JAX with optax not importable: JAX rows skipped"
  echo "jax,none,skipped,,,,info" >> "$CSV"
fi

# rjax vs JAX: time ratio and loss agreement (rows of the same n, dtype and length)
awk -F, '($1 == "pln" || $1 == "jax") && $2 != "interp" && $2 != "shim" { v[$1 "," $3] = $6 }
  END { for (k in v) { split(k, a, ","); if (a[1] != "pln") continue; j = v["jax," a[2]]; if (j == "") continue;
          if (a[2] ~ /^run_s_/) print "versus_jax,cuda,time_ratio_" a[2] ",,," v[k] / j ",info";
          if (a[2] ~ /^loss_/) { d = (v[k] - j) / (j < 0 ? -j : j); if (d < 0) d = -d;
            print "versus_jax,cuda,rel_diff_" a[2] ",,," d "," (a[2] == "loss_1" || a[2] == "loss_2" ? (d < 1e-4 ? "pass" : "FAIL") : "info") } } }' \
  "$CSV" >> "$CSV"

log "wrote $CSV"
cat "$CSV" | grep -v '^agree,' || true
grep -c ',pass$' "$CSV" | sed 's/^/gpu-check: passed checks: /'
if grep -q ',FAIL$' "$CSV"; then grep ',FAIL$' "$CSV"; status=1; fi
exit $status
