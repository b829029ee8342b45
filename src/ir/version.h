// The rjax version the core reports (program files, compile-cache keys).
// Must equal DESCRIPTION's Version: tests/testthat/test-export.R checks it.
#pragma once
#define RJAX_VERSION "0.1.0"
