# rjax: two commands on a fresh Debian 12 machine.
#   make demo   installs dependencies, builds and installs rjax into ./lib, runs the demo
#   make test   the same install, the C++ core's unit tests, then the testthat suite
#               ("N passed, N failed, N skipped" last: both suites' totals)
R        ?= R
RSCRIPT  ?= Rscript
LIB      := $(CURDIR)/lib
export R_LIBS := $(LIB)
export MAKEFLAGS := -j2

.PHONY: all deps install core demo test check document clean bench bench-deps

all: install

deps:
	sh tools/install-deps.sh

$(LIB):
	mkdir -p $(LIB)

install: deps | $(LIB)
	$(R) CMD INSTALL --strip --library=$(LIB) . >/tmp/rjax-install.log 2>&1 || (cat /tmp/rjax-install.log; exit 1)
	@echo "rjax installed into $(LIB)"

demo: install
	$(RSCRIPT) inst/scripts/demo.R

# The C++ core's standalone build (no R) and its unit tests, then testthat;
# tools/run-tests.R adds both counts into its last line.
core: deps
	$(MAKE) -f tools/core/Makefile all

test: install core
	$(RSCRIPT) tools/run-tests.R

# Regenerates NAMESPACE and man/ from the roxygen comments.
document: deps
	./configure
	$(RSCRIPT) -e 'roxygen2::roxygenise(roclets = c("rd", "namespace"))'
	rm -f src/*.o src/*/*.o src/*/*/*.o src/*.so  # roxygen compiled without optimisation

check: deps
	rm -rf check && mkdir check
	cd check && $(R) CMD build .. && _R_CHECK_FORCE_SUGGESTS_=false $(R) CMD check --no-manual rjax_*.tar.gz

# The peers of the PLN benchmark need Debian's numpy and PyTorch.
bench-deps: deps
	sh tools/install-deps.sh --bench

# Writes bench/results/pln.csv and pln.md (rjax levels and peers in one run).
bench: install bench-deps
	$(RSCRIPT) tools/bench-peers/run.R

clean:
	rm -rf $(LIB) check build
	./cleanup
