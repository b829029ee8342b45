#!/bin/sh
# Installs the Debian packages rjax needs, only those that are missing.
# Usage: tools/install-deps.sh   (as root, or with sudo available)
# libeigen3-dev: the standalone core build (tools/core/Makefile) uses Debian's Eigen.
set -eu

PKGS="r-base-dev r-cran-rcpp r-cran-rcppeigen r-cran-testthat r-cran-roxygen2 r-cran-cli r-cran-knitr r-cran-rmarkdown r-cran-pkgbuild pandoc llvm-16-dev libeigen3-dev openmpi-bin libopenmpi-dev"

# --bench adds the peers of `make bench`: Debian's numpy and PyTorch, the
# optimised BLAS they should run on (without libopenblas0-pthread Debian's
# numpy falls back to the reference BLAS, 3-4x slower on the PLN fit), and
# threadpoolctl so each peer can record which BLAS and kernel it really used.
if [ "${1:-}" = "--bench" ]; then
  PKGS="python3-numpy python3-torch python3-threadpoolctl libopenblas0-pthread"
fi

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all system packages present"
  exit 0
fi

echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
