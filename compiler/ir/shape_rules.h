// Shape inference rules of the operators, referenced by the op table, and their arithmetic.
#pragma once

#include "compiler/ir/op_table.h"

#include <optional>
#include <string>
#include <utility>

namespace nnc::ir {

/// NumPy broadcasting of two shapes; on failure, the reason.
std::variant<Shape, std::string> broadcastShapes(const Shape& a, const Shape& b);

/// Output size of a convolution or pooling window along one axis, as PyTorch computes it
/// (floor mode): floor((in + padTotal - dilation*(kernel-1) - 1) / stride) + 1, or nullopt when
/// the window does not fit the padded input.
std::optional<int64_t> windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                        int64_t padTotal, int64_t dilation);

/// PyTorch's padding="same" for one axis (stride 1): {before, after}, the extra one after.
std::pair<int64_t, int64_t> samePadding(int64_t kernel, int64_t dilation);

InferOutcome inferDense(const InferContext& ctx);
InferOutcome inferConv2d(const InferContext& ctx);
InferOutcome inferPool2d(const InferContext& ctx);
InferOutcome inferGlobalPool(const InferContext& ctx);
InferOutcome inferBatchNorm(const InferContext& ctx);
InferOutcome inferMaxout(const InferContext& ctx);
InferOutcome inferFlatten(const InferContext& ctx);
InferOutcome inferBroadcast(const InferContext& ctx);
InferOutcome inferConcat(const InferContext& ctx);
InferOutcome inferAxiswise(const InferContext& ctx);
InferOutcome inferDropout(const InferContext& ctx);
InferOutcome inferUnary(const InferContext& ctx);
InferOutcome inferPrelu(const InferContext& ctx);
InferOutcome inferCelu(const InferContext& ctx);
InferOutcome inferSoftplus(const InferContext& ctx);
InferOutcome inferClampLike(const InferContext& ctx);

} // namespace nnc::ir
