// The abstract syntax tree of a `.nn` file, as the grammar yields it. Every node knows its range.
//
// The variant types come from Spirit X3's support headers (x3::variant, x3::forward_ast) so
// that the parser fills them directly; these headers hold no parser code, and the front end
// only reads the tree through boost::get. No parser header is included outside grammar/.
#pragma once

#include "grammar/source.h"

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>

#include <string>
#include <vector>

namespace nnc::ast {

namespace x3 = boost::spirit::x3;

/// Base of every node: where in the file it was written (set when its rule matched).
struct Node {
  SourceRange range;
};

struct Identifier : Node {
  std::string name;
};

/// A number as written; whether it is an integer and its value are decided when lowering.
struct Number : Node {
  std::string text;
};

/// A string literal, without its quotes.
struct String : Node {
  std::string text;
};

struct Boolean : Node {
  bool value = false;
};

struct Chain;
struct List;

/// An argument value: a number, string, boolean, list, or a chain (tensor values and names).
struct Value : x3::variant<Number, String, Boolean, x3::forward_ast<List>, x3::forward_ast<Chain>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct List : Node {
  std::vector<Value> items;
};

/// `value` or `key = value`.
struct Arg : Node {
  boost::optional<Identifier> key;
  Value value;
};

/// `callee(args...)`: an operator or a block.
struct Call : Node {
  Identifier callee;
  std::vector<Arg> args;
};

/// A call or a bare name.
struct Term : x3::variant<Call, Identifier> {
  using base_type::base_type;
  using base_type::operator=;
};

/// `head -> link -> link ...`: each link receives the value on its left as first argument.
struct Chain : Node {
  Term head;
  std::vector<Term> links;
};

/// A dimension: an integer or a symbol.
struct Dim : x3::variant<Number, Identifier> {
  using base_type::base_type;
  using base_type::operator=;
};

/// `f32[d0, d1, ...]`; the element type is checked when lowering.
struct TensorType : Node {
  Identifier elementType;
  std::vector<Dim> dims;
};

/// `input name: type`
struct InputStmt : Node {
  Identifier name;
  TensorType type;
};

/// `output a, b, ...`
struct OutputStmt : Node {
  std::vector<Identifier> names;
};

/// `name = chain`
struct AssignStmt : Node {
  Identifier name;
  Chain value;
};

struct Stmt : x3::variant<InputStmt, OutputStmt, AssignStmt> {
  using base_type::base_type;
  using base_type::operator=;
};

/// `model name { stmts }`
struct Model : Node {
  Identifier name;
  std::vector<Stmt> body;
};

/// `block name(params) { stmts return chain }`
struct Block : Node {
  Identifier name;
  std::vector<Identifier> params;
  std::vector<Stmt> body;
  Chain result;
};

struct TopLevel : x3::variant<Model, Block> {
  using base_type::base_type;
  using base_type::operator=;
};

/// A whole file: its models and blocks in the order written.
struct File {
  std::vector<TopLevel> items;
};

/// The chain or list a value holds, or nullptr.
inline const Chain* asChain(const Value& value) {
  auto* chain = boost::get<x3::forward_ast<Chain>>(&value);
  return chain ? &chain->get() : nullptr;
}
inline const List* asList(const Value& value) {
  auto* list = boost::get<x3::forward_ast<List>>(&value);
  return list ? &list->get() : nullptr;
}

/// The range of any node or variant of nodes.
SourceRange rangeOf(const Value& value);
SourceRange rangeOf(const Term& term);
SourceRange rangeOf(const Dim& dim);

} // namespace nnc::ast
