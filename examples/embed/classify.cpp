// Embeds nnc through its C++ API (nnc/model.h): compiles a model file, loads its weights from a
// safetensors file and runs it on a batch whose input values are sin(0.1·i), i = 0, 1, ...
// Prints each output as `nnc run` does: "NAME: f32[SHAPE] min MIN max MAX mean MEAN".
//
//   classify MODEL.nn WEIGHTS.safetensors [BATCH]
#include <nnc/model.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

int fail(const nnc::Error& error) {
  for (const nnc::Diagnostic& d : error.diagnostics)
    std::cerr << d.rendered;
  std::cerr << "classify: " << error.message << "\n";
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: classify MODEL.nn WEIGHTS.safetensors [BATCH]\n";
    return 2;
  }
  int64_t batch = argc > 3 ? std::atoll(argv[3]) : 2;
  nnc::Result<nnc::Model> model = nnc::Model::compileFile(argv[1]);
  if (!model)
    return fail(model.error());
  if (nnc::Status loaded = model->loadWeights(argv[2]); !loaded)
    return fail(loaded.error());

  // Every input, its symbolic dimensions set to the batch.
  std::vector<std::vector<float>> data;
  std::vector<nnc::TensorView> inputs;
  for (const nnc::TensorInfo& info : model->inputs()) {
    std::vector<int64_t> shape;
    int64_t count = 1;
    for (const nnc::Dim& dim : info.shape) {
      shape.push_back(dim.isSymbolic() ? batch : dim.size);
      count *= shape.back();
    }
    std::vector<float>& values = data.emplace_back(static_cast<size_t>(count));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<float>(std::sin(0.1 * static_cast<double>(i)));
    inputs.push_back({info.name, values.data(), shape});
  }

  // Buffers sized from the output shapes these inputs give.
  auto shapes = model->outputShapes(inputs);
  if (!shapes)
    return fail(shapes.error());
  std::vector<std::vector<float>> results;
  std::vector<nnc::OutputBuffer> outputs;
  for (size_t o = 0; o < model->outputs().size(); ++o) {
    size_t count = 1;
    for (int64_t size : shapes.value()[o])
      count *= static_cast<size_t>(size);
    std::vector<float>& buffer = results.emplace_back(count);
    outputs.push_back({model->outputs()[o].name, buffer.data(), buffer.size(), {}});
  }
  if (nnc::Status ran = model->run(inputs, outputs); !ran)
    return fail(ran.error());

  for (size_t o = 0; o < outputs.size(); ++o) {
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (float v : results[o]) {
      sum += v;
      lo = std::min<double>(lo, v);
      hi = std::max<double>(hi, v);
    }
    double mean = results[o].empty() ? 0 : sum / static_cast<double>(results[o].size());
    std::printf("%s: f32%s min %.6g max %.6g mean %.6g\n", outputs[o].name.c_str(),
                shapeText(outputs[o].shape).c_str(), lo, hi, mean);
  }
  return 0;
}
