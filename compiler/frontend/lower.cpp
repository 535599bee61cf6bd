#include "compiler/frontend/lower.h"

#include "compiler/frontend/arguments.h"
#include "compiler/ir/internal_error.h"
#include "compiler/ir/verifier.h"
#include "runtime/tensor.h"

#include <fmt/format.h>

#include <deque>
#include <map>
#include <set>
#include <utility>

namespace nnc {

namespace x3 = boost::spirit::x3;

namespace {

/// Deepest nesting of block calls (blocks cannot recurse; this bounds pathological files).
constexpr size_t kMaxBlockDepth = 64;
/// Most operations plus block instances in one model: blocks that call blocks twice grow
/// exponentially when inlined.
constexpr size_t kMaxWork = 100'000;
/// Deepest nesting of calls being lowered at once, across block instances (guards the stack).
constexpr size_t kMaxEvalDepth = 512;

/// Whether the known sizes of `shape` multiply to a count that a memory could hold (the
/// runtime's rule); beyond, counts computed from them would wrap.
bool fitsInMemory(const ir::Shape& shape) {
  std::vector<int64_t> known;
  for (const ir::Dim& dim : shape)
    if (dim.isKnown())
      known.push_back(dim.size());
  return runtime::checkedElementCount(known).has_value();
}

class ModelLowering {
public:
  ModelLowering(const ast::Model& model, const Declarations& decls, DiagnosticEngine& diagnostics)
      : model_(model), decls_(decls), diagnostics_(diagnostics), graph_(model.name.name) {
    sink_ = [this](SourceRange range, std::string message) -> SourceDiagnostic& {
      return error(range, std::move(message));
    };
  }

  std::optional<ir::Graph> run() {
    frames_.push_back(Frame{{}, "", nullptr, {}});
    lowerBody(model_.body);
    // Names that failed to resolve leave the model incomplete; those errors were reported before
    // lowering, so the verifier is not asked about it.
    if (failed_ || diagnostics_.hasErrors())
      return std::nullopt;
    std::vector<std::string> problems = ir::verify(graph_);
    if (!problems.empty())
      throw InternalError(
          fmt::format("invalid IR for model '{}': {}", model_.name.name, problems.front()));
    return std::move(graph_);
  }

private:
  struct Binding {
    Resolved::Kind kind = Resolved::Poisoned;
    ir::ValueId value = 0;
    const ast::Value* literal = nullptr;
  };

  /// The model body, or one inlined block instance.
  struct Frame {
    std::map<std::string, Binding, std::less<>> names;
    std::string prefix; ///< prepended to names of values and weights ("" in the model)
    const ast::Block* block;
    SourceRange callSite;
  };

  /// One statement being lowered: its name and which parameterized ops it holds.
  struct Statement {
    std::string name;
    bool firstClaimed = false;
    std::map<std::string, SourceRange, std::less<>> paramOps;
    int temps = 0;
  };

  SourceDiagnostic& error(SourceRange range, std::string message) {
    failed_ = true;
    SourceDiagnostic& d = diagnostics_.error(range, std::move(message));
    // The chain of block calls that led here, innermost first; like clang's template
    // backtrace, a long chain shows its ends and skips the middle.
    constexpr size_t kShownAtEachEnd = 5;
    size_t calls = frames_.size() - 1; // frames_[0] is the model itself
    for (size_t index = 0; index < calls; ++index) {
      const Frame& frame = frames_[frames_.size() - 1 - index];
      bool middle = calls > 2 * kShownAtEachEnd && index >= kShownAtEachEnd &&
                    index < calls - kShownAtEachEnd;
      if (!middle)
        addNote(d, frame.callSite,
                fmt::format("in block '{}' called here", frame.block->name.name));
      else if (index == kShownAtEachEnd)
        addNote(d, frame.callSite,
                fmt::format("(skipping {} block calls)", calls - 2 * kShownAtEachEnd));
    }
    return d;
  }

  std::string qualified(const std::string& name) const {
    const std::string& prefix = frames_.back().prefix;
    return prefix.empty() ? name : prefix + "." + name;
  }

  void bind(const std::string& name, Binding binding) { frames_.back().names[name] = binding; }

  const Binding* lookup(std::string_view name) const {
    const auto& names = frames_.back().names;
    auto it = names.find(name);
    return it == names.end() ? nullptr : &it->second;
  }

  void lowerBody(const std::vector<ast::Stmt>& body) {
    for (const ast::Stmt& stmt : body) {
      if (auto* input = boost::get<ast::InputStmt>(&stmt))
        lowerInput(*input);
      else if (auto* output = boost::get<ast::OutputStmt>(&stmt))
        lowerOutput(*output);
      else
        lowerAssign(boost::get<ast::AssignStmt>(stmt));
    }
  }

  void lowerInput(const ast::InputStmt& input) {
    bool ok = true;
    const ast::Identifier& element = input.type.elementType;
    if (element.name != "f32") {
      std::string hint = didYouMean(element.name, {"f32"});
      error(element.range, fmt::format("unsupported element type '{}'{}", element.name,
                                       hint.empty() ? "; tensors are f32" : hint));
      ok = false;
    }
    ir::TensorType type;
    for (const ast::Dim& dim : input.type.dims) {
      if (auto* symbol = boost::get<ast::Identifier>(&dim)) {
        type.shape.push_back(ir::Dim::symbol(symbol->name));
        continue;
      }
      const auto& number = boost::get<ast::Number>(dim);
      std::optional<int64_t> size = parseInteger(number.text);
      if (!size || *size < 1 || *size > kMaxInteger) {
        error(number.range, fmt::format("a dimension must be a positive integer of at most {} or "
                                        "a symbol, got {}",
                                        kMaxInteger, number.text));
        ok = false;
        continue;
      }
      type.shape.push_back(ir::Dim::known(*size));
    }
    if (ok && !fitsInMemory(type.shape)) {
      error(input.name.range, fmt::format("input '{}' of type {} has more elements than a memory "
                                          "can hold",
                                          input.name.name, type.str()));
      ok = false;
    }
    if (!ok || lookup(input.name.name)) {
      bind(input.name.name, Binding{});
      return;
    }
    ir::ValueId id = graph_.addInput(input.name.name, std::move(type), input.name.range);
    bind(input.name.name, Binding{Resolved::Tensor, id, nullptr});
  }

  void lowerOutput(const ast::OutputStmt& output) {
    std::set<std::string> listed;
    for (const ir::Output& existing : graph_.outputs())
      listed.insert(existing.name);
    for (const ast::Identifier& name : output.names) {
      const Binding* binding = lookup(name.name);
      if (binding && binding->kind == Resolved::Tensor && listed.insert(name.name).second)
        graph_.addOutput(name.name, binding->value);
    }
  }

  void lowerAssign(const ast::AssignStmt& assign) {
    if (lookup(assign.name.name))
      return; // bound twice: reported by name resolution
    std::optional<ir::ValueId> value =
        lowerStatementChain(assign.value, qualified(assign.name.name));
    bind(assign.name.name, value ? Binding{Resolved::Tensor, *value, nullptr} : Binding{});
  }

  /// Lowers the chain of a statement named `name`; its final value takes that name. A block's
  /// return chain is named after the instance but has no "first op": each of its parameterized
  /// ops is named `instance.op.param`, so it cannot collide with the block's statements.
  std::optional<ir::ValueId> lowerStatementChain(const ast::Chain& chain, const std::string& name,
                                                 bool isReturn = false) {
    Statement statement{name, isReturn, {}, 0};
    size_t before = graph_.values().size();
    std::optional<ir::ValueId> value = evalChain(chain, statement);
    if (value && *value >= before)
      graph_.renameValue(*value, name);
    return value;
  }

  std::optional<ir::ValueId> evalChain(const ast::Chain& chain, Statement& statement) {
    struct DepthGuard {
      size_t& depth;
      ~DepthGuard() { --depth; }
    } guard{++evalDepth_};
    if (evalDepth_ > kMaxEvalDepth) {
      if (!std::exchange(tooDeep_, true))
        error(chain.range, fmt::format("calls are nested more than {} deep once blocks are "
                                       "inlined",
                                       kMaxEvalDepth));
      return std::nullopt;
    }
    std::optional<ir::ValueId> current;
    if (auto* call = boost::get<ast::Call>(&chain.head))
      current = evalCall(call->callee, call->args, std::nullopt, statement);
    else
      current = tensorNamed(boost::get<ast::Identifier>(chain.head));
    for (const ast::Term& link : chain.links) {
      if (!current)
        return std::nullopt;
      static const std::vector<ast::Arg> kNoArgs;
      if (auto* call = boost::get<ast::Call>(&link))
        current = evalCall(call->callee, call->args, current, statement);
      else
        current = evalCall(boost::get<ast::Identifier>(link), kNoArgs, current, statement);
    }
    return current;
  }

  /// The tensor a bare name denotes.
  std::optional<ir::ValueId> tensorNamed(const ast::Identifier& name) {
    const Binding* binding = lookup(name.name);
    if (!binding || binding->kind == Resolved::Poisoned)
      return std::nullopt; // reported by name resolution, or by the statement that bound it
    if (binding->kind == Resolved::Literal) {
      error(name.range,
            fmt::format("'{}' is bound to {} here, but a tensor value is expected", name.name,
                        ast::rangeOf(*binding->literal).length ? describeWritten(*binding->literal)
                                                               : "a literal"));
      return std::nullopt;
    }
    return binding->value;
  }

  std::string describeWritten(const ast::Value& value) const {
    return std::string(diagnostics_.file().slice(ast::rangeOf(value)));
  }

  std::optional<ir::ValueId> evalCall(const ast::Identifier& callee,
                                      const std::vector<ast::Arg>& args,
                                      std::optional<ir::ValueId> piped, Statement& statement) {
    if (const ir::OpInfo* op = ir::findOp(callee.name))
      return lowerOp(*op, callee, args, piped, statement);
    if (const ast::Block* block = decls_.findBlock(callee.name))
      return lowerBlockCall(*block, callee, args, piped, statement);
    return std::nullopt; // unknown callee: reported by name resolution
  }

  /// The prefix for the weights of a call: the statement's name for its first op, else
  /// `statement.op`. A parameterized op may appear once per statement.
  std::optional<std::string> claimPrefix(const ast::Identifier& callee, bool hasParams,
                                         Statement& statement) {
    bool first = !statement.firstClaimed;
    statement.firstClaimed = true;
    if (hasParams) {
      auto [it, inserted] = statement.paramOps.emplace(callee.name, callee.range);
      if (!inserted) {
        SourceDiagnostic& d =
            error(callee.range,
                  fmt::format("'{}' appears twice in the statement '{}', so their weights would "
                              "share names; bind each in its own statement",
                              callee.name, statement.name));
        addNote(d, it->second, "first used here");
        return std::nullopt;
      }
    }
    return first ? statement.name : statement.name + "." + callee.name;
  }

  /// Evaluates an argument that must be a tensor.
  std::optional<ir::ValueId> evalTensor(const ArgSource& source, std::optional<ir::ValueId> piped,
                                        std::string_view argName, std::string_view callee,
                                        Statement& statement) {
    if (!source.value)
      return piped;
    const ast::Chain* chain = ast::asChain(*source.value);
    if (!chain) {
      // concat(a, b, 1): a number among the tensors is most likely the axis, which is a keyword.
      const ir::OpInfo* op = ir::findOp(callee);
      std::string hint;
      if (boost::get<ast::Number>(source.value) && op && op->attrIndex("axis") >= 0)
        hint = fmt::format("; the axis is a keyword argument: axis={}",
                           describeWritten(*source.value));
      error(source.range, fmt::format("argument '{}' of '{}' expects a tensor value, got {}{}",
                                      argName, callee, describeWritten(*source.value), hint));
      return std::nullopt;
    }
    return evalChain(*chain, statement);
  }

  /// Counts one operation or block instance against the model's budget.
  bool withinBudget(const ast::Identifier& callee) {
    if (++work_ <= kMaxWork)
      return true;
    if (!std::exchange(tooLarge_, true))
      error(callee.range, fmt::format("model '{}' grows beyond {} operations and block calls once "
                                      "its blocks are inlined",
                                      model_.name.name, kMaxWork));
    return false;
  }

  /// The literal `value` denotes here, with every name inside it (a list's items) replaced by
  /// the literal bound to it, so that it keeps its meaning when passed into a block. Returns
  /// nullptr after reporting a tensor inside a list, or when a name failed earlier.
  const ast::Value* materialize(const ast::Value& value) {
    const ast::List* list = ast::asList(value);
    if (!list)
      return &value; // numbers, strings and booleans hold no names
    ast::List copy;
    copy.range = list->range;
    bool changed = false;
    for (const ast::Value& item : list->items) {
      Resolved resolved = resolve(item);
      if (resolved.kind == Resolved::Tensor)
        error(ast::rangeOf(item), "a list holds numbers, not tensor values");
      if (resolved.kind != Resolved::Literal)
        return nullptr;
      const ast::Value* literal = materialize(*resolved.literal);
      if (!literal)
        return nullptr;
      changed |= literal != &item;
      copy.items.push_back(*literal);
    }
    if (!changed)
      return &value;
    ast::Value& owned = materialized_.emplace_back();
    owned = x3::forward_ast<ast::List>(std::move(copy));
    return &owned;
  }

  Resolved resolve(const ast::Value& value) const {
    const ast::Chain* chain = ast::asChain(value);
    if (!chain)
      return Resolved{Resolved::Literal, &value};
    const ast::Chain& c = *chain;
    auto* name = boost::get<ast::Identifier>(&c.head);
    if (!name || !c.links.empty())
      return Resolved{Resolved::Tensor, nullptr};
    const Binding* binding = lookup(name->name);
    if (!binding)
      return Resolved{Resolved::Poisoned, nullptr};
    return Resolved{binding->kind, binding->literal};
  }

  std::optional<ir::ValueId> lowerOp(const ir::OpInfo& op, const ast::Identifier& callee,
                                     const std::vector<ast::Arg>& args,
                                     std::optional<ir::ValueId> piped, Statement& statement) {
    if (!withinBudget(callee))
      return std::nullopt;
    std::optional<std::string> prefix = claimPrefix(callee, op.has(ir::kHasParams), statement);
    if (!prefix)
      return std::nullopt;
    std::optional<BoundArgs> bound =
        bindArguments(callee, paramSlots(op), args, piped.has_value(), sink_);
    if (!bound)
      return std::nullopt;

    bool ok = true;
    std::vector<ir::ValueId> operands;
    std::vector<SourceRange> operandRanges;
    std::vector<ir::AttrValue> attrs;
    std::map<std::string_view, SourceRange> argRanges;
    Resolver resolver = [this](const ast::Value& v) { return resolve(v); };
    for (size_t i = 0; i < op.args.size(); ++i) {
      const ir::ArgSpec& spec = op.args[i];
      const std::vector<ArgSource>& sources = bound->slots[i];
      if (!sources.empty())
        argRanges[spec.name] = sources.front().range;
      if (spec.isTensor()) {
        for (const ArgSource& source : sources) {
          std::optional<ir::ValueId> value =
              evalTensor(source, piped, spec.name, op.name, statement);
          ok &= value.has_value();
          if (value) {
            operands.push_back(*value);
            operandRanges.push_back(source.range);
          }
        }
      } else if (!sources.empty()) {
        std::optional<ir::AttrValue> attr =
            convertAttr(*sources.front().value, spec, op.name, resolver, sink_);
        ok &= attr.has_value();
        attrs.push_back(attr.value_or(ir::AttrValue{}));
      } else if (spec.defaultValue) {
        attrs.push_back(*spec.defaultValue);
      } else {
        // The default is another argument's value (maxpool's stride defaults to its kernel).
        attrs.push_back(attrs.at(op.attrIndex(spec.defaultFrom)));
      }
    }
    if (!ok)
      return std::nullopt;

    std::vector<ir::TensorType> types;
    for (ir::ValueId id : operands)
      types.push_back(graph_.value(id).type);
    ir::InferOutcome outcome = op.infer(ir::InferContext(op, types, attrs));
    if (auto* failure = std::get_if<ir::InferError>(&outcome)) {
      SourceRange where = callee.range;
      if (failure->operand >= 0)
        where = operandRanges.at(failure->operand);
      else if (auto it = argRanges.find(failure->argName); it != argRanges.end())
        where = it->second;
      error(where, failure->message);
      return std::nullopt;
    }
    ir::Inferred& inferred = std::get<ir::Inferred>(outcome);
    if (!fitsInMemory(inferred.type.shape)) {
      error(callee.range, fmt::format("the result of '{}' would have type {}: more elements than "
                                      "a memory can hold",
                                      callee.name, inferred.type.str()));
      return std::nullopt;
    }
    for (const auto& [role, shape] : inferred.params)
      if (!fitsInMemory(shape)) {
        error(callee.range, fmt::format("the {} of '{}' would have shape {}: more elements "
                                        "than a memory can hold",
                                        role, callee.name, ir::TensorType{shape}.str()));
        return std::nullopt;
      }

    ir::Node node;
    node.op = op.kind;
    node.operands = std::move(operands);
    node.attrs = std::move(attrs);
    node.loc = callee.range;
    for (auto& [role, shape] : inferred.params) {
      std::string name = *prefix + "." + std::string(role);
      auto [it, inserted] = weightNames_.emplace(name, callee.range);
      if (!inserted) {
        SourceDiagnostic& d =
            error(callee.range, fmt::format("the weight name '{}' is already taken; bind one of "
                                            "these operators in a statement of its own",
                                            name));
        addNote(d, it->second, "taken by this operator");
        return std::nullopt;
      }
      node.params.push_back(ir::Param{std::string(role), name, std::move(shape)});
    }
    std::string resultName = fmt::format("{}.{}", statement.name, ++statement.temps);
    return graph_.addNode(std::move(node), resultName, std::move(inferred.type));
  }

  std::optional<ir::ValueId> lowerBlockCall(const ast::Block& block, const ast::Identifier& callee,
                                            const std::vector<ast::Arg>& args,
                                            std::optional<ir::ValueId> piped,
                                            Statement& statement) {
    if (decls_.broken.count(&block))
      return std::nullopt; // its errors were reported at the block
    if (frames_.size() > kMaxBlockDepth) {
      error(callee.range, fmt::format("blocks are nested more than {} deep", kMaxBlockDepth));
      return std::nullopt;
    }
    if (!withinBudget(callee))
      return std::nullopt;
    std::optional<std::string> prefix =
        claimPrefix(callee, decls_.withWeights.count(&block) != 0, statement);
    if (!prefix)
      return std::nullopt;
    std::vector<ParamSlot> slots;
    for (const ast::Identifier& param : block.params)
      slots.push_back(ParamSlot{param.name, true, false});
    std::optional<BoundArgs> bound = bindArguments(callee, slots, args, piped.has_value(), sink_);
    if (!bound)
      return std::nullopt;

    // Arguments are evaluated in the caller's frame.
    Frame frame{{}, *prefix, &block, callee.range};
    bool ok = true;
    for (size_t i = 0; i < slots.size(); ++i) {
      const ArgSource& source = bound->slots[i].front();
      Binding binding;
      Resolved resolved = source.value ? resolve(*source.value) : Resolved{Resolved::Tensor};
      if (resolved.kind == Resolved::Literal) {
        if (const ast::Value* literal = materialize(*resolved.literal))
          binding = Binding{Resolved::Literal, 0, literal};
      } else if (resolved.kind == Resolved::Tensor) {
        std::optional<ir::ValueId> value =
            evalTensor(source, piped, slots[i].name, block.name.name, statement);
        if (value)
          binding = Binding{Resolved::Tensor, *value, nullptr};
      }
      ok &= binding.kind != Resolved::Poisoned;
      frame.names[block.params[i].name] = binding;
    }
    if (!ok)
      return std::nullopt;

    frames_.push_back(std::move(frame));
    lowerBody(block.body);
    std::optional<ir::ValueId> result = lowerStatementChain(block.result, *prefix, true);
    frames_.pop_back();
    return result;
  }

  const ast::Model& model_;
  const Declarations& decls_;
  DiagnosticEngine& diagnostics_;
  ErrorSink sink_;
  ir::Graph graph_;
  std::vector<Frame> frames_;
  std::map<std::string, SourceRange> weightNames_;
  std::deque<ast::Value> materialized_; ///< lists rewritten by materialize(); stable addresses
  size_t work_ = 0;
  size_t evalDepth_ = 0;
  bool failed_ = false;
  bool tooLarge_ = false;
  bool tooDeep_ = false;
};

} // namespace

std::optional<ir::Graph> lowerModel(const ast::Model& model, const Declarations& declarations,
                                    DiagnosticEngine& diagnostics) {
  return ModelLowering(model, declarations, diagnostics).run();
}

} // namespace nnc
