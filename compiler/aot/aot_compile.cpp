#include "compiler/aot/aot_compile.h"

#include "compiler/jit/graph_runner.h"
#include "compiler/jit/jit.h"
#include "compiler/jit/model_weights.h"
#include "compiler/passes/pipeline.h"
#include "runtime/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace nnc::aot {

namespace {

/// The ISA's kind, as the runtime knows it ("host" is resolved when compiling).
std::string kindName(codegen::IsaKind kind) {
  switch (kind) {
  case codegen::IsaKind::Avx512:
    return "avx512";
  case codegen::IsaKind::Avx2:
    return "avx2";
  case codegen::IsaKind::Sse:
    break;
  }
  return "sse";
}

bool isIdentifier(const std::string& name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

/// Emits into `module` (whose kernels are emitted already) the model's descriptor
/// (compiler/aot/aot_model.h) and NAME_run, which hands its arguments to nnc_aot_run.
void emitEntry(llvm::Module& module, const ir::Graph& graph, const jit::KernelPlan& plan,
               const AotOptions& options) {
  llvm::LLVMContext& context = module.getContext();
  llvm::IRBuilder<> builder(context);
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* i64 = builder.getInt64Ty();
  auto text = [&](const std::string& value, const std::string& name) -> llvm::Constant* {
    auto* data = llvm::ConstantDataArray::getString(context, value, /*AddNull=*/true);
    return new llvm::GlobalVariable(module, data->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, data,
                                    options.name + "." + name);
  };
  // The kernels, internal to the object so that two models' kernels never clash.
  std::vector<llvm::Constant*> names, addresses;
  for (size_t s = 0; s < plan.symbols.size(); ++s) {
    llvm::Function* kernel = module.getFunction(plan.symbols[s]);
    kernel->setName(options.name + ".kernel." + plan.symbols[s]);
    kernel->setLinkage(llvm::GlobalValue::InternalLinkage);
    names.push_back(text(plan.symbols[s], "symbol" + std::to_string(s)));
    addresses.push_back(kernel);
  }
  auto table = [&](const std::vector<llvm::Constant*>& items, const char* name) {
    auto* type = llvm::ArrayType::get(ptr, items.size());
    return new llvm::GlobalVariable(module, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, items),
                                    options.name + "." + name);
  };
  llvm::Constant* weights = llvm::ConstantPointerNull::get(ptr);
  int64_t weightsSize = 0;
  if (options.weights) {
    auto* data = llvm::ConstantDataArray::getRaw(*options.weights, options.weights->size(),
                                                 builder.getInt8Ty());
    auto* blob =
        new llvm::GlobalVariable(module, data->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                 data, options.name + ".weights");
    blob->setAlignment(llvm::Align(64));
    weights = blob;
    weightsSize = static_cast<int64_t>(options.weights->size());
  }
  auto* state =
      new llvm::GlobalVariable(module, ptr, false, llvm::GlobalValue::InternalLinkage,
                               llvm::ConstantPointerNull::get(ptr), options.name + ".state");
  std::vector<llvm::Constant*> fields = {
      llvm::ConstantInt::get(i64, 1),
      text(options.source, "source"),
      text(options.fileName, "file"),
      text(graph.name(), "model"),
      text(kindName(options.isa.kind), "isa"),
      text(options.passes, "passes"),
      llvm::ConstantInt::get(i64, options.fusion ? 1 : 0),
      weights,
      llvm::ConstantInt::get(i64, weightsSize),
      llvm::ConstantInt::get(i64, static_cast<int64_t>(plan.symbols.size())),
      table(names, "symbols"),
      table(addresses, "kernels"),
      state};
  std::vector<llvm::Type*> types;
  for (llvm::Constant* field : fields)
    types.push_back(field->getType()->isIntegerTy() ? static_cast<llvm::Type*>(i64) : ptr);
  auto* descriptorType = llvm::StructType::get(context, types);
  auto* descriptor = new llvm::GlobalVariable(
      module, descriptorType, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantStruct::get(descriptorType, fields), options.name + ".model");

  // int NAME_run(const float* inputs..., int64_t symbols..., float* outputs...[, weights])
  std::vector<std::string> symbols = graph.inputSymbols();
  size_t inputs = graph.inputs().size(), outputs = graph.outputs().size();
  std::vector<llvm::Type*> parameters(inputs, ptr);
  parameters.insert(parameters.end(), symbols.size(), i64);
  parameters.insert(parameters.end(), outputs, ptr);
  if (!options.weights)
    parameters.push_back(ptr);
  auto* run =
      llvm::Function::Create(llvm::FunctionType::get(builder.getInt32Ty(), parameters, false),
                             llvm::GlobalValue::ExternalLinkage, options.name + "_run", module);
  auto* entry = llvm::FunctionType::get(builder.getInt32Ty(), {ptr, ptr, ptr, ptr, ptr}, false);
  llvm::FunctionCallee aotRun = module.getOrInsertFunction("nnc_aot_run", entry);
  builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", run));
  auto array = [&](llvm::Type* type, size_t first, size_t count) -> llvm::Value* {
    llvm::Value* slots = builder.CreateAlloca(type, builder.getInt64(std::max<size_t>(count, 1)));
    for (size_t i = 0; i < count; ++i)
      builder.CreateStore(run->getArg(static_cast<unsigned>(first + i)),
                          builder.CreateConstGEP1_64(type, slots, i));
    return slots;
  };
  llvm::Value* inputArray = array(ptr, 0, inputs);
  llvm::Value* symbolArray = array(i64, inputs, symbols.size());
  llvm::Value* outputArray = array(ptr, inputs + symbols.size(), outputs);
  llvm::Value* givenWeights = options.weights
                                  ? static_cast<llvm::Value*>(llvm::ConstantPointerNull::get(ptr))
                                  : run->getArg(run->arg_size() - 1);
  builder.CreateRet(
      builder.CreateCall(aotRun, {descriptor, inputArray, symbolArray, outputArray, givenWeights}));
}

/// The C parameter names of a NAME_run: a model's name for each value, with "_" appended while
/// it is a C keyword or already taken (an input named y_out beside output y's y_out, one named
/// weights beside the weights).
class ParameterNames {
public:
  std::string take(std::string name) {
    while (taken_.count(name))
      name += "_";
    taken_.insert(name);
    return name;
  }

private:
  // C's keywords and C++'s (the header declares NAME_run for both), and the names the header
  // uses itself.
  std::set<std::string> taken_ = {"alignas",     "alignof",      "and",       "and_eq",
                                  "asm",         "auto",         "bitand",    "bitor",
                                  "bool",        "break",        "case",      "catch",
                                  "char",        "char8_t",      "char16_t",  "char32_t",
                                  "class",       "compl",        "concept",   "const",
                                  "consteval",   "constexpr",    "constinit", "const_cast",
                                  "continue",    "co_await",     "co_return", "co_yield",
                                  "decltype",    "default",      "delete",    "do",
                                  "double",      "dynamic_cast", "else",      "enum",
                                  "explicit",    "export",       "extern",    "false",
                                  "float",       "for",          "friend",    "goto",
                                  "if",          "inline",       "int",       "int64_t",
                                  "long",        "mutable",      "namespace", "new",
                                  "noexcept",    "not",          "not_eq",    "nullptr",
                                  "operator",    "or",           "or_eq",     "private",
                                  "protected",   "public",       "register",  "reinterpret_cast",
                                  "requires",    "restrict",     "return",    "short",
                                  "signed",      "sizeof",       "static",    "static_assert",
                                  "static_cast", "struct",       "switch",    "template",
                                  "this",        "thread_local", "throw",     "true",
                                  "try",         "typedef",      "typeid",    "typename",
                                  "union",       "unsigned",     "using",     "virtual",
                                  "void",        "volatile",     "wchar_t",   "weights",
                                  "while",       "xor",          "xor_eq"};
};

std::string headerFor(const ir::Graph& graph, const AotOptions& options) {
  // The guard keeps the name's case: models m and M each get their own.
  std::string guard = "NNC_AOT_" + options.name + "_H";
  ParameterNames names;
  std::vector<std::string> parameters, inputs, outputs, weights;
  for (ir::ValueId id : graph.inputs()) {
    std::string name = names.take(graph.value(id).name);
    parameters.push_back("const float* " + name);
    inputs.push_back(name + " " + graph.value(id).type.str());
  }
  for (const std::string& symbol : graph.inputSymbols())
    parameters.push_back("int64_t " + names.take(symbol));
  for (const ir::Output& output : graph.outputs()) {
    std::string name = names.take(output.name + "_out");
    parameters.push_back("float* " + name);
    outputs.push_back(name + " " + graph.value(output.value).type.str());
  }
  std::vector<std::string> sizes;
  for (const ir::Node& node : graph.nodes())
    for (const ir::Param& param : node.params) {
      int64_t count = 1;
      std::vector<int64_t> shape;
      for (const ir::Dim& dim : param.shape) {
        shape.push_back(dim.size());
        count *= dim.size();
      }
      weights.push_back(fmt::format(" *   {} f32[{}]", param.name, fmt::join(shape, ", ")));
      sizes.push_back(std::to_string(count));
    }
  if (!options.weights)
    parameters.push_back("const float* const* weights");
  std::string upper = options.name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string weightText =
      options.weights
          ? " * The weights are in the object.\n"
          : fmt::format(
                " * `weights` points to {} arrays of floats, in this order (read and copied\n"
                " * at the first call; later calls' weights are not read):\n{}\n",
                weights.size(), fmt::join(weights, "\n"));
  return fmt::format(
      "/* Generated by nnc compile from {} (model {}, {}); do not edit.\n"
      " * Link {} with libnnc_rt (-lnnc_rt), which needs no LLVM. */\n"
      "#ifndef {}\n#define {}\n\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {{\n"
      "#endif\n\n"
      "/* Runs model {} on the caller's buffers. Inputs: {}. Outputs, which the caller allocates:\n"
      " * {}.\n{}"
      " * Returns 0, or nonzero with the reason in nnc_aot_last_error(). Calls may come from\n"
      " * several threads; the model runs one at a time. */\n"
      "int {}_run({});\n\n"
      "/* The number of weight arrays {}_run takes (0: they are in the object), and their sizes. "
      "*/\n"
      "#define {}_WEIGHT_COUNT {}\n#define {}_WEIGHT_SIZES {{{}}}\n\n"
      "const char* nnc_aot_last_error(void);\n\n"
      "#ifdef __cplusplus\n}}\n#endif\n\n#endif\n",
      options.fileName, graph.name(), options.isa.name, options.objectName, guard, guard,
      graph.name(), fmt::join(inputs, ", "), fmt::join(outputs, ", "), weightText, options.name,
      fmt::join(parameters, ", "), options.name, upper, options.weights ? 0 : weights.size(), upper,
      options.weights ? "0" : fmt::format("{}", fmt::join(sizes, ", ")));
}

} // namespace

AotOutput compileAheadOfTime(const ir::Graph& graph, const AotOptions& options) {
  if (!isIdentifier(options.name))
    throw runtime::UserError(fmt::format("'{}' is not a C identifier (use --name)", options.name));
  auto pipeline = passes::Pipeline::parse(options.passes, options.fusion);
  if (auto* problem = std::get_if<std::string>(&pipeline))
    throw runtime::UserError(*problem);
  jit::Weights weights;
  if (options.weights) {
    weights =
        runtime::parseSafetensors(reinterpret_cast<const unsigned char*>(options.weights->data()),
                                  options.weights->size(), "the weights");
    jit::checkWeights(graph, weights, "the weights");
  } else {
    weights = jit::randomWeights(graph, 0); // shapes only: passes do not see them
  }
  auto machine = jit::targetMachineFor(options.isa);
  if (!machine)
    throw runtime::UserError(llvm::toString(machine.takeError()));
  AotOutput output;
  jit::KernelProvider emit = [&](const jit::KernelPlan& plan) {
    llvm::LLVMContext context;
    llvm::Module module(graph.name(), context);
    module.setDataLayout((*machine)->createDataLayout());
    module.setTargetTriple((*machine)->getTargetTriple().str());
    jit::emitKernels(module, plan, options.isa);
    emitEntry(module, graph, plan, options);
    jit::optimizeModule(module);
    llvm::SmallVector<char, 0> object;
    llvm::raw_svector_ostream out(object);
    llvm::legacy::PassManager passes;
    if ((*machine)->addPassesToEmitFile(passes, out, nullptr, llvm::CodeGenFileType::ObjectFile))
      throw runtime::UserError("LLVM cannot emit an object file for " + options.isa.name);
    passes.run(module);
    output.object.assign(object.begin(), object.end());
    return std::vector<void*>(plan.symbols.size(), nullptr); // nothing runs here
  };
  jit::GraphRunner planned(graph, options.isa, std::move(weights), 1,
                           std::get<passes::Pipeline>(pipeline), emit, options.weights.has_value());
  output.header = headerFor(graph, options);
  return output;
}

} // namespace nnc::aot
