// Reading and writing safetensors files: named tensors, read as f32, written as F32.
#pragma once

#include "runtime/tensor.h"

#include <map>
#include <string>

namespace nnc::runtime {

/// Reads every tensor of a .safetensors file (mapped read-only), converted to f32:
/// F32 is copied; F16 and BF16 are converted exactly (subnormals, infinities and NaN included);
/// F64 is rounded to the nearest f32 (magnitudes beyond the f32 range become infinities).
/// The "__metadata__" entry is ignored. Tensors may overlap or leave gaps in the data section:
/// each is read from its own data_offsets; bytes after the last tensor are ignored.
/// Throws UserError, one line naming the file, the problem and the tensor if there is one: the
/// file cannot be opened or is too short, a header length past the end of the file (or over
/// 100 MB), a header that is not a JSON object, an entry without a string "dtype", an array
/// "shape" of non-negative integers or "data_offsets" [begin, end] with begin <= end, another
/// dtype, data past the end of the file (truncated), a byte size that does not match the shape.
std::map<std::string, Tensor> readSafetensors(const std::string& path);
/// The same for the bytes of a safetensors file already in memory (`source` names it in errors).
std::map<std::string, Tensor> parseSafetensors(const unsigned char* bytes, size_t size,
                                               const std::string& source);

/// Writes `tensors` as F32 in name order, with a header padded with spaces to a multiple of
/// 8 bytes and no "__metadata__". Throws UserError when the file cannot be written, a tensor's
/// data does not match its shape, a name is not valid UTF-8 or is "__metadata__".
void writeSafetensors(const std::string& path, const std::map<std::string, Tensor>& tensors);

} // namespace nnc::runtime
