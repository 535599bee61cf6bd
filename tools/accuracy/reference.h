// The true values of the activations (long double, C library functions) and ULP distances:
// the yardstick of the kernel tests and of the accuracy tool.
#pragma once

#include "compiler/ir/op_table.h"

#include <vector>

namespace nnc::accuracy {

/// The true value of activation `op` at `x`, following the language reference's definitions,
/// computed in long double with the C library and arranged so that nothing cancels; limits at
/// +-inf; NaN for NaN.
long double reference(ir::OpKind op, const std::vector<ir::AttrValue>& attrs, double x);

/// Distance of `got` from the float nearest `truth`, in ULPs of that float (0 when `got` is
/// the correctly rounded value). A result may be 0 where the true value is below FLT_MIN.
double ulpError(float got, long double truth);

} // namespace nnc::accuracy
