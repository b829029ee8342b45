// NumPy .npy files (format 1.0/2.0) for buffers, so that Python tools can
// produce inputs for rjax-run and read its outputs.
//
// rjax arrays are column-major (R's layout): they are written with
// 'fortran_order': True and the R dims as the shape, so numpy.load() gives
// the same array R has. Reading accepts either order (C-order data is
// transposed into rjax's layout) and the dtypes <f8 <f4 <i4 |b1 (|u1 is
// read as bool). Bool NA (0xFF) is kept as its byte.
#pragma once
#include <string>

#include "../ir/ir.h"

namespace rj {

std::string npy_encode(const Buffer& b);
BufferPtr npy_decode(const std::string& bytes, const std::string& what);  // what: for messages
void npy_save(const Buffer& b, const std::string& path);
BufferPtr npy_load(const std::string& path);

}  // namespace rj
