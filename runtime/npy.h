// Reading and writing NumPy .npy files of float32 tensors in C order.
#pragma once

#include "runtime/tensor.h"

#include <string>

namespace nnc::runtime {

/// Reads a .npy file (format 1.0, 2.0 or 3.0) holding a little-endian float32 array in C order.
/// Throws UserError naming the file and the problem: not .npy, another dtype, Fortran order,
/// a corrupt header, truncated or extra data.
Tensor readNpy(const std::string& path);

/// Writes `tensor` as a format 1.0 .npy file. Throws UserError when the file cannot be written.
void writeNpy(const std::string& path, const Tensor& tensor);

} // namespace nnc::runtime
