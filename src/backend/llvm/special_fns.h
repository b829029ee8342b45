// C-linkage special functions for generated code (see special_fns.cpp).
#pragma once

extern "C" {
double rj_lgamma(double x);
double rj_digamma(double x);
double rj_trigamma(double x);
}
