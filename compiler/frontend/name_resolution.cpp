#include "compiler/frontend/name_resolution.h"

#include "compiler/ir/op_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace nnc {

const ast::Block* Declarations::findBlock(std::string_view name) const {
  auto it = blocks.find(name);
  return it == blocks.end() ? nullptr : it->second;
}

namespace {

/// Checks the names of one model or block body.
class BodyChecker {
public:
  BodyChecker(const Declarations& decls, DiagnosticEngine& diagnostics, const ast::Block* block)
      : decls_(decls), diagnostics_(diagnostics), block_(block) {}

  /// Returns false when an error was reported.
  bool checkModel(const ast::Model& model) {
    bool hasInput = false, hasOutput = false;
    collectLaterBindings(model.body);
    for (const ast::Stmt& stmt : model.body) {
      hasInput |= stmt.get().type() == typeid(ast::InputStmt);
      hasOutput |= stmt.get().type() == typeid(ast::OutputStmt);
      checkStatement(stmt);
    }
    if (!hasInput)
      error(model.name.range, fmt::format("model '{}' has no input; declare one with "
                                          "'input NAME: f32[...]'",
                                          model.name.name));
    if (!hasOutput)
      error(model.name.range, fmt::format("model '{}' has no output; name its results with "
                                          "'output NAME'",
                                          model.name.name));
    warnUnused();
    return ok_;
  }

  bool checkBlock(const ast::Block& block) {
    for (const ast::Identifier& param : block.params)
      bind(param, "parameter");
    collectLaterBindings(block.body);
    for (const ast::Stmt& stmt : block.body)
      checkStatement(stmt);
    laterBindings_.clear();
    visitChain(block.result);
    warnUnused();
    return ok_;
  }

  /// Blocks this body calls, with the call's callee name, in order.
  std::vector<std::pair<const ast::Block*, const ast::Identifier*>> calledBlocks;
  /// Whether the body calls an operator that has weights.
  bool callsWeightedOp = false;

private:
  struct Binding {
    SourceRange def;
    const char* kind; ///< "input", "value", "parameter"
    bool used = false;
    bool output = false;
  };

  void error(SourceRange range, std::string message) {
    diagnostics_.error(range, std::move(message));
    ok_ = false;
  }

  void collectLaterBindings(const std::vector<ast::Stmt>& body) {
    for (const ast::Stmt& stmt : body) {
      if (auto* assign = boost::get<ast::AssignStmt>(&stmt))
        laterBindings_.emplace(assign->name.name, assign->name.range);
      else if (auto* input = boost::get<ast::InputStmt>(&stmt))
        laterBindings_.emplace(input->name.name, input->name.range);
    }
  }

  void bind(const ast::Identifier& name, const char* kind) {
    auto [it, inserted] = bindings_.try_emplace(name.name, Binding{name.range, kind});
    if (!inserted) {
      SourceDiagnostic& d =
          diagnostics_.error(name.range, fmt::format("'{}' is already bound; every "
                                                     "name is bound once",
                                                     name.name));
      addNote(d, it->second.def, fmt::format("'{}' was bound here", name.name));
      ok_ = false;
    }
    order_.push_back(name.name);
  }

  void checkStatement(const ast::Stmt& stmt) {
    if (auto* input = boost::get<ast::InputStmt>(&stmt)) {
      bind(input->name, "input");
      if (block_) {
        error(input->range, "'input' is only allowed in a model; a block receives values as "
                            "parameters");
        bindings_.at(input->name.name).used = true; // no second complaint about it
      }
    } else if (auto* output = boost::get<ast::OutputStmt>(&stmt)) {
      if (block_)
        error(output->range, "'output' is only allowed in a model; a block ends with 'return'");
      for (const ast::Identifier& name : output->names) {
        Binding* binding = use(name);
        if (!binding)
          continue;
        if (binding->output)
          diagnostics_.warning(name.range, fmt::format("'{}' is already an output", name.name));
        binding->output = true;
      }
    } else {
      const auto& assign = boost::get<ast::AssignStmt>(stmt);
      visitChain(assign.value);
      bind(assign.name, "value");
    }
  }

  Binding* use(const ast::Identifier& name) {
    auto it = bindings_.find(name.name);
    if (it != bindings_.end()) {
      it->second.used = true;
      return &it->second;
    }
    if (auto later = laterBindings_.find(name.name); later != laterBindings_.end()) {
      SourceDiagnostic& d =
          diagnostics_.error(name.range, fmt::format("'{}' is used before it is bound", name.name));
      addNote(d, later->second, fmt::format("'{}' is bound here", name.name));
      ok_ = false;
      return nullptr;
    }
    std::string message = fmt::format("unknown value '{}'", name.name);
    if (ir::findOp(name.name) || decls_.findBlock(name.name))
      message +=
          fmt::format("; '{}' is {}, call it as '{}(...)' or write '-> {}'", name.name,
                      ir::findOp(name.name) ? "an operator" : "a block", name.name, name.name);
    else {
      std::vector<std::string> candidates = order_;
      candidates.insert(candidates.end(), {"true", "false"});
      message += didYouMean(name.name, candidates);
    }
    error(name.range, std::move(message));
    return nullptr;
  }

  void visitChain(const ast::Chain& chain) {
    if (auto* call = boost::get<ast::Call>(&chain.head))
      visitCall(call->callee, &call->args);
    else
      use(boost::get<ast::Identifier>(chain.head));
    for (const ast::Term& link : chain.links) {
      if (auto* call = boost::get<ast::Call>(&link))
        visitCall(call->callee, &call->args);
      else
        visitCall(boost::get<ast::Identifier>(link), nullptr);
    }
  }

  void visitCall(const ast::Identifier& callee, const std::vector<ast::Arg>* args) {
    if (const ir::OpInfo* op = ir::findOp(callee.name)) {
      callsWeightedOp |= op->has(ir::kHasParams);
    } else {
      if (const ast::Block* target = decls_.findBlock(callee.name)) {
        calledBlocks.emplace_back(target, &callee);
      } else if (bindings_.count(callee.name)) {
        error(callee.range, fmt::format("'{}' is a value, not an operator or block", callee.name));
      } else if (decls_.modelNames.count(callee.name)) {
        error(callee.range,
              fmt::format("'{}' is a model; a model cannot be called, a block can", callee.name));
      } else {
        std::vector<std::string> candidates = ir::opNames();
        for (const auto& [name, block] : decls_.blocks)
          candidates.push_back(name);
        error(callee.range, fmt::format("unknown operator '{}'{}", callee.name,
                                        didYouMean(callee.name, candidates)));
      }
    }
    if (args)
      for (const ast::Arg& arg : *args)
        visitValue(arg.value);
  }

  void visitValue(const ast::Value& value) {
    if (const ast::Chain* chain = ast::asChain(value))
      visitChain(*chain);
    else if (const ast::List* list = ast::asList(value))
      for (const ast::Value& item : list->items)
        visitValue(item);
  }

  /// Warns about names never used, unless the body had errors (which may be why).
  void warnUnused() {
    if (!ok_)
      return;
    for (const std::string& name : order_) {
      const Binding& binding = bindings_.at(name);
      if (binding.used || binding.output)
        continue;
      if (std::string_view(binding.kind) == "parameter")
        diagnostics_.warning(binding.def, fmt::format("parameter '{}' of block '{}' is never used",
                                                      name, block_->name.name));
      else
        diagnostics_.warning(binding.def, fmt::format("{} '{}' is never used", binding.kind, name));
    }
  }

  const Declarations& decls_;
  DiagnosticEngine& diagnostics_;
  const ast::Block* block_;
  std::map<std::string, Binding, std::less<>> bindings_;
  std::map<std::string, SourceRange, std::less<>> laterBindings_;
  std::vector<std::string> order_;
  bool ok_ = true;
};

using BlockCalls = std::vector<std::pair<const ast::Block*, const ast::Identifier*>>;

/// Walks the graph of block calls depth-first without recursion (a file may chain thousands of
/// blocks): reports each cycle once and marks its blocks broken, and marks the blocks that
/// create weights when inlined (directly, or through a block they call).
void analyzeBlockCalls(Declarations& decls, DiagnosticEngine& diagnostics,
                       const std::map<const ast::Block*, BlockCalls>& calls,
                       const std::set<const ast::Block*>& directWeights) {
  enum class State { Unvisited, Active, Done };
  std::map<const ast::Block*, State> state;
  struct Frame {
    const ast::Block* block;
    size_t next; ///< index of the next call to follow
  };
  for (const auto& [name, root] : decls.blocks) {
    if (state[root] != State::Unvisited)
      continue;
    std::vector<Frame> stack{{root, 0}};
    state[root] = State::Active;
    while (!stack.empty()) {
      Frame& frame = stack.back();
      const BlockCalls& out = calls.at(frame.block);
      if (frame.next == out.size()) {
        // Every callee is done: this block creates weights if any callee does.
        bool weights = directWeights.count(frame.block) != 0;
        for (const auto& [callee, site] : out)
          weights |= decls.withWeights.count(callee) != 0;
        if (weights)
          decls.withWeights.insert(frame.block);
        state[frame.block] = State::Done;
        stack.pop_back();
        continue;
      }
      const auto& [callee, site] = out[frame.next++];
      if (state[callee] == State::Unvisited) {
        state[callee] = State::Active;
        stack.push_back({callee, 0});
      } else if (state[callee] == State::Active) {
        std::string path;
        auto first = std::find_if(stack.begin(), stack.end(),
                                  [&](const Frame& f) { return f.block == callee; });
        for (auto it = first; it != stack.end(); ++it) {
          path += fmt::format("'{}' -> ", it->block->name.name);
          decls.broken.insert(it->block);
        }
        diagnostics.error(site->range,
                          fmt::format("block '{}' calls itself ({}'{}'); blocks are inlined and "
                                      "cannot be recursive",
                                      callee->name.name, path, callee->name.name));
      }
    }
  }
}

} // namespace

Declarations resolveNames(const ast::File& file, DiagnosticEngine& diagnostics) {
  Declarations decls;
  std::map<std::string, SourceRange> models;
  for (const ast::TopLevel& item : file.items) {
    if (auto* block = boost::get<ast::Block>(&item)) {
      if (ir::findOp(block->name.name)) {
        diagnostics.error(
            block->name.range,
            fmt::format("block '{}' has the name of a built-in operator", block->name.name));
        continue;
      }
      auto [it, inserted] = decls.blocks.emplace(block->name.name, block);
      if (!inserted) {
        SourceDiagnostic& d = diagnostics.error(
            block->name.range, fmt::format("block '{}' is defined twice", block->name.name));
        addNote(d, it->second->name.range, "first defined here");
      }
    } else {
      const auto& model = boost::get<ast::Model>(item);
      auto [it, inserted] = models.emplace(model.name.name, model.name.range);
      if (!inserted) {
        SourceDiagnostic& d = diagnostics.error(
            model.name.range, fmt::format("model '{}' is defined twice", model.name.name));
        addNote(d, it->second, "first defined here");
        continue;
      }
      decls.models.push_back(&model);
      decls.modelNames.insert(model.name.name);
    }
  }

  std::map<const ast::Block*, BlockCalls> calls;
  std::set<const ast::Block*> directWeights;
  std::set<const ast::Block*> called;
  for (const auto& [name, block] : decls.blocks) {
    BodyChecker checker(decls, diagnostics, block);
    if (!checker.checkBlock(*block))
      decls.broken.insert(block);
    calls[block] = checker.calledBlocks;
    if (checker.callsWeightedOp)
      directWeights.insert(block);
    for (const auto& [callee, site] : checker.calledBlocks)
      called.insert(callee);
  }
  analyzeBlockCalls(decls, diagnostics, calls, directWeights);
  for (const ast::Model* model : decls.models) {
    BodyChecker checker(decls, diagnostics, nullptr);
    checker.checkModel(*model);
    for (const auto& [callee, site] : checker.calledBlocks)
      called.insert(callee);
  }
  // An unused block may be the target of a misspelled call, already reported as an error.
  for (const auto& [name, block] : decls.blocks)
    if (!called.count(block) && !diagnostics.hasErrors())
      diagnostics.warning(block->name.range, fmt::format("block '{}' is never used", name));
  return decls;
}

} // namespace nnc
