// C-linkage special functions for generated code (see special_fns.cpp).
#pragma once

extern "C" {
double rj_lgamma(double x);
double rj_digamma(double x);
double rj_trigamma(double x);
double rj_fmod(double x, double y);    // R's %% on doubles
double rj_ffloor(double x, double y);  // R's %/% on doubles
}
