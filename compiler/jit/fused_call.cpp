#include "compiler/jit/fused_call.h"

#include <algorithm>

namespace nnc::jit {

FusedCall::FusedCall(FusedFn fn, const std::vector<int64_t>& resultShape, size_t split,
                     const std::vector<LeafView>& leaves, const std::vector<bool>& scalar)
    : fn_(fn), outerDims_(resultShape.begin(), resultShape.begin() + static_cast<long>(split)) {
  for (size_t axis = split; axis < resultShape.size(); ++axis)
    inner_ *= resultShape[axis];
  for (size_t k = 0; k < leaves.size(); ++k) {
    const std::vector<int64_t>& shape = leaves[k].shape;
    size_t offset = resultShape.size() - shape.size();
    Leaf leaf{leaves[k].data, std::vector<int64_t>(split, 0), scalar[k]};
    int64_t stride = 1;
    for (size_t axis = resultShape.size(); axis-- > offset;) {
      int64_t size = shape[axis - offset];
      if (axis < split && size == resultShape[axis] && size != 1)
        leaf.outerStrides[axis] = stride;
      stride *= size;
    }
    leaves_.push_back(std::move(leaf));
  }
}

void FusedCall::apply(float* y, int64_t offset, int64_t count) const {
  constexpr size_t kOnStack = 16;
  const float* onStack[kOnStack];
  std::vector<const float*> onHeap(leaves_.size() > kOnStack ? leaves_.size() : 0);
  const float** pointers = leaves_.size() > kOnStack ? onHeap.data() : onStack;
  while (count > 0) {
    int64_t outer = offset / inner_, within = offset % inner_;
    int64_t length = std::min(count, inner_ - within);
    for (size_t k = 0; k < leaves_.size(); ++k) {
      const Leaf& leaf = leaves_[k];
      int64_t at = leaf.scalar ? 0 : within;
      int64_t rest = outer;
      for (size_t axis = outerDims_.size(); axis-- > 0;) {
        at += rest % outerDims_[axis] * leaf.outerStrides[axis];
        rest /= outerDims_[axis];
      }
      pointers[k] = leaf.data + at;
    }
    fn_(y + offset, pointers, length);
    offset += length;
    count -= length;
  }
}

void FusedCall::applyTo(const void* self, float* y, int64_t offset, int64_t count) {
  static_cast<const FusedCall*>(self)->apply(y, offset, count);
}

} // namespace nnc::jit
