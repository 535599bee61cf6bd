#include "compiler/jit/conv_input.h"

#include "runtime/strided_copy.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace nnc::jit {

namespace {

int64_t ceilDiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

} // namespace

ConvInput::ConvInput(const runtime::Conv2dGeometry& g, const codegen::GemmTile& tile,
                     unsigned vectorWidth)
    : g_(g), channels_(g.inChannels / g.groups) {
  int64_t positions = g.outH * g.outW;
  int64_t width = vectorWidth;
  bool pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 &&
                   g.padTop == 0 && g.padLeft == 0 && g.outH == g.inH && g.outW == g.inW;
  if (pointwise && positions % width == 0) {
    mode_ = Mode::InPlace;
    for (int64_t c = 0; c < channels_; ++c)
      offsets_.push_back(c * positions);
    return;
  }
  if (g.outW % width == 0) {
    mode_ = Mode::Bordered;
    // The bordered image covers every tap of every output; phase (ry, rx) holds its rows
    // ry, ry + s, ... and columns rx, rx + s, ...
    int64_t borderedH = g.strideH * (g.outH - 1) + g.dilationH * (g.kernelH - 1) + 1;
    int64_t borderedW = g.strideW * (g.outW - 1) + g.dilationW * (g.kernelW - 1) + 1;
    phaseH_ = ceilDiv(borderedH, g.strideH);
    phaseW_ = ceilDiv(borderedW, g.strideW);
    channelSize_ = g.strideH * g.strideW * phaseH_ * phaseW_;
    bordered_.resize(static_cast<size_t>(channels_ * channelSize_));
    // Only the phases some tap reads are filled (a 1x1 convolution with stride 2 reads one).
    phaseRows_.assign(static_cast<size_t>(g.strideH), false);
    phaseColumns_.assign(static_cast<size_t>(g.strideW), {});
    for (int64_t kh = 0; kh < g.kernelH; ++kh)
      phaseRows_[static_cast<size_t>(kh * g.dilationH % g.strideH)] = true;
    for (int64_t kw = 0; kw < g.kernelW; ++kw)
      phaseColumns_[static_cast<size_t>(kw * g.dilationW % g.strideW)].used = true;
    for (int64_t rx = 0; rx < g.strideW; ++rx) {
      // Phase column b is input column b·sw + rx - padLeft: those in [lo, hi) are inside.
      PhaseColumns& columns = phaseColumns_[static_cast<size_t>(rx)];
      columns.lo = std::clamp<int64_t>(ceilDiv(g.padLeft - rx, g.strideW), 0, phaseW_);
      columns.hi =
          std::clamp<int64_t>(ceilDiv(g.inW + g.padLeft - rx, g.strideW), columns.lo, phaseW_);
    }
    for (int64_t c = 0; c < channels_; ++c)
      for (int64_t kh = 0; kh < g.kernelH; ++kh)
        for (int64_t kw = 0; kw < g.kernelW; ++kw) {
          int64_t dy = kh * g.dilationH, dx = kw * g.dilationW;
          int64_t phase = (dy % g.strideH) * g.strideW + dx % g.strideW;
          offsets_.push_back(c * channelSize_ + phase * phaseH_ * phaseW_ +
                             dy / g.strideH * phaseW_ + dx / g.strideW);
        }
    return;
  }
  mode_ = Mode::Patches;
  patches_ = PackedMatrix(positions, channels_ * g.kernelH * g.kernelW, tile.nr);
}

GemmB ConvInput::prepare(const float* x) {
  int64_t positions = g_.outH * g_.outW;
  switch (mode_) {
  case Mode::InPlace:
    return {x, offsets_.data(), positions, channels_, positions, 0};
  case Mode::Bordered:
    fillBordered(x);
    return {bordered_.data(), offsets_.data(), positions, channels_ * g_.kernelH * g_.kernelW,
            g_.outW,          phaseW_};
  case Mode::Patches:
    break;
  }
  patches_.packPatches(x, channels_, g_);
  return GemmB::packed(patches_);
}

void ConvInput::fillBordered(const float* x) {
  // The border is zero from the constructor and never written: only the input's own rows are
  // copied, each phase row's part [lo, hi) of them, for all the channels in one call.
  const int64_t sh = g_.strideH, sw = g_.strideW;
  for (int64_t ry = 0; ry < sh; ++ry) {
    if (!phaseRows_[static_cast<size_t>(ry)])
      continue;
    // Phase row a is input row a·sh + ry - padTop.
    int64_t first = std::max<int64_t>(0, ceilDiv(g_.padTop - ry, sh));
    int64_t last = std::min(phaseH_, ceilDiv(g_.inH + g_.padTop - ry, sh));
    if (first >= last)
      continue;
    runtime::RowBlock rows{x + (first * sh + ry - g_.padTop) * g_.inW, g_.inH * g_.inW, sh * g_.inW,
                           channels_, last - first};
    // Phase column b of phase rx is input column b·sw + rx - padLeft; its first inside one is
    // column lo·sw + rx - padLeft, 0 or 1 for stride 2.
    auto target = [&](int64_t rx) {
      const PhaseColumns& columns = phaseColumns_[static_cast<size_t>(rx)];
      float* out = bordered_.data() + ((ry * sw + rx) * phaseH_ + first) * phaseW_ + columns.lo;
      return runtime::RowTarget{out, channelSize_, phaseW_,
                                columns.used ? columns.hi - columns.lo : 0};
    };
    auto firstColumn = [&](int64_t rx) {
      return phaseColumns_[static_cast<size_t>(rx)].lo * sw + rx - g_.padLeft;
    };
    if (sw == 2 && std::set<int64_t>{firstColumn(0), firstColumn(1)} == std::set<int64_t>{0, 1}) {
      // One phase starts at input column 0 and holds the even columns, the other at column 1
      // and holds the odd: one pass reads each row once.
      int64_t evenPhase = firstColumn(0) == 0 ? 0 : 1;
      runtime::splitEvenOddRows(rows, target(evenPhase), target(1 - evenPhase));
      continue;
    }
    for (int64_t rx = 0; rx < sw; ++rx) {
      runtime::RowTarget phase = target(rx);
      if (phase.count <= 0) // unread, or all in the border
        continue;
      runtime::RowBlock shifted = rows;
      shifted.source += firstColumn(rx);
      runtime::copyStridedRows(shifted, sw, phase);
    }
  }
}

} // namespace nnc::jit
