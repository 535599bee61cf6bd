// The X3 rules of the `.nn` grammar (section 2 of the reference). Include only from parser.cpp:
// this is the one translation unit that pays for Spirit's templates.
#pragma once

#include "grammar/ast.h"
#include "grammar/keywords.h"

#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/spirit/home/x3.hpp>

#include <type_traits>

BOOST_FUSION_ADAPT_STRUCT(nnc::ast::Arg, key, value)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::Call, callee, args)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::Chain, head, links)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::TensorType, elementType, dims)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::InputStmt, name, type)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::AssignStmt, name, value)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::Model, name, body)
BOOST_FUSION_ADAPT_STRUCT(nnc::ast::Block, name, params, body, result)

namespace nnc::grammar {

namespace x3 = boost::spirit::x3;

/// Context tag holding the first character of the file, to turn iterators into offsets.
struct source_begin_tag;

/// Rule handler that records the matched range on every AST node (no IR is built here).
struct annotate_position {
  template <typename Iterator, typename Attribute, typename Context>
  void on_success(const Iterator& first, const Iterator& last, Attribute& attr,
                  const Context& context) {
    if constexpr (std::is_base_of_v<ast::Node, Attribute>) {
      const char* begin = x3::get<source_begin_tag>(context);
      attr.range.offset = static_cast<uint32_t>(first - begin);
      attr.range.length = static_cast<uint32_t>(last - first);
    }
  }
};

// Character classes spelled out as ranges: they never consult the C locale and accept any byte.
const auto ident_start = x3::char_("a-zA-Z_");
const auto ident_char = x3::char_("a-zA-Z0-9_");
const auto digit = x3::char_("0-9");

/// keyword = the word, not followed by an identifier character
inline auto kw(const char* word) {
  return x3::lexeme[x3::lit(word) >> !ident_char];
}
inline x3::symbols<> keywordWords() {
  x3::symbols<> words;
  for (std::string_view word : kKeywords)
    words.add(std::string(word));
  return words;
}
const auto keyword = x3::lexeme[keywordWords() >> !ident_char];

/// skipper: white space and '#' comments to the end of the line
const auto skipper = x3::char_(" \t\r\n\f\v") | x3::lexeme['#' >> *(x3::char_ - x3::eol)];

// Assign a matched string into single-member nodes (X3 cannot propagate into one-member structs).
const auto set_name = [](auto& ctx) {
  const auto& matched = x3::_attr(ctx);
  x3::_val(ctx).name.assign(matched.begin(), matched.end());
};
const auto set_text = [](auto& ctx) {
  const auto& matched = x3::_attr(ctx);
  x3::_val(ctx).text.assign(matched.begin(), matched.end());
};
const auto set_items = [](auto& ctx) { x3::_val(ctx).items = std::move(x3::_attr(ctx)); };
const auto set_names = [](auto& ctx) { x3::_val(ctx).names = std::move(x3::_attr(ctx)); };
const auto set_true = [](auto& ctx) { x3::_val(ctx).value = true; };
const auto set_false = [](auto& ctx) { x3::_val(ctx).value = false; };

// Rule declarations; the string is the name used in "expected ..." diagnostics.
// X3 calls on_success only for rules whose right-hand side has no semantic action, so each node
// built by an action is parsed by an inner `*_text` rule and annotated by its outer rule.
struct identifier_text_class;
struct type_word_text_class;
struct number_text_class;
struct string_text_class;
struct boolean_text_class;
struct list_text_class;
struct output_stmt_text_class;
struct identifier_class;
struct type_word_class;
struct number_class;
struct string_class;
struct boolean_class;
struct list_class;
struct value_class;
struct arg_class;
struct keyword_arg_class;
struct positional_arg_class;
struct call_class;
struct term_class;
struct chain_class;
struct dim_class;
struct tensor_type_class;
struct input_stmt_class;
struct output_stmt_class;
struct assign_stmt_class;
struct stmt_class;
struct model_class;
struct block_class;
struct file_class;
struct close_paren_class;
struct close_bracket_class;
struct close_model_class;
struct block_return_class;
struct end_of_file_class;

const x3::rule<identifier_text_class, ast::Identifier> identifier_text = "identifier";
const x3::rule<type_word_text_class, ast::Identifier> type_word_text = "element type";
const x3::rule<number_text_class, ast::Number> number_text = "number";
const x3::rule<string_text_class, ast::String> string_text = "string";
const x3::rule<boolean_text_class, ast::Boolean> boolean_text = "boolean";
const x3::rule<list_text_class, ast::List> list_text = "list";
const x3::rule<output_stmt_text_class, ast::OutputStmt> output_stmt_text = "output statement";
const x3::rule<identifier_class, ast::Identifier> identifier = "identifier";
const x3::rule<type_word_class, ast::Identifier> type_word = "element type";
const x3::rule<number_class, ast::Number> number = "number";
const x3::rule<string_class, ast::String> string = "string";
const x3::rule<boolean_class, ast::Boolean> boolean = "boolean";
const x3::rule<list_class, ast::List> list = "list";
const x3::rule<value_class, ast::Value> value = "value";
const x3::rule<arg_class, ast::Arg> arg = "argument";
const x3::rule<keyword_arg_class, ast::Arg> keyword_arg = "argument";
const x3::rule<positional_arg_class, ast::Arg> positional_arg = "argument";
const x3::rule<call_class, ast::Call> call = "call";
const x3::rule<term_class, ast::Term> term = "operator or value name";
const x3::rule<chain_class, ast::Chain> chain = "expression";
const x3::rule<dim_class, ast::Dim> dim = "dimension";
const x3::rule<tensor_type_class, ast::TensorType> tensor_type = "tensor type";
const x3::rule<input_stmt_class, ast::InputStmt> input_stmt = "input statement";
const x3::rule<output_stmt_class, ast::OutputStmt> output_stmt = "output statement";
const x3::rule<assign_stmt_class, ast::AssignStmt> assign_stmt = "assignment";
const x3::rule<stmt_class, ast::Stmt> stmt = "statement";
const x3::rule<model_class, ast::Model> model = "model";
const x3::rule<block_class, ast::Block> block = "block";
const x3::rule<file_class, std::vector<ast::TopLevel>> file = "file";
const x3::rule<close_paren_class> close_paren = "',' or ')'";
const x3::rule<close_bracket_class> close_bracket = "',' or ']'";
const x3::rule<close_model_class> close_model = "a statement or '}'";
const x3::rule<block_return_class> block_return = "a statement or 'return'";
const x3::rule<end_of_file_class> end_of_file = "'model' or 'block'";
const x3::rule<struct fraction_digits_class> fraction_digits = "digits after '.'";
const x3::rule<struct exponent_digits_class> exponent_digits = "digits of the exponent";
const x3::rule<struct keyword_as_name_class> keyword_as_name = "identifier";

// Comma-separated lists: `item >> *(',' > item)` rather than `item % ','`, so that after a comma
// an item is expected and `f(x, .5)` is reported at `.5`, not at the comma.
const auto arg_list = x3::rule<struct arg_list_class, std::vector<ast::Arg>>{
    "argument"} = arg >> *(',' > arg);
const auto value_list = x3::rule<struct value_list_class, std::vector<ast::Value>>{
    "value"} = value >> *(',' > value);
const auto dim_list = x3::rule<struct dim_list_class, std::vector<ast::Dim>>{
    "dimension"} = dim >> *(',' > dim);
const auto identifier_list = x3::rule<struct identifier_list_class, std::vector<ast::Identifier>>{
    "identifier"} = identifier >> *(',' > identifier);

// ident  = ( letter | "_" ) { letter | digit | "_" } ;   (keywords excluded)
const auto identifier_text_def =
    x3::lexeme[!keyword >> x3::raw[ident_start >> *ident_char]][set_name];
// the element type of a tensor type: any word, so that `f16` gets a precise diagnostic
const auto type_word_text_def = x3::lexeme[x3::raw[ident_start >> *ident_char]][set_name];
// number = [ "-" ] digits [ "." digits ] [ ( "e" | "E" ) [ "+" | "-" ] digits ] ;
const auto number_text_def =
    x3::lexeme[x3::raw[-x3::lit('-') >> +digit >> -('.' > fraction_digits) >>
                       -(x3::char_("eE") > -x3::char_("+-") > exponent_digits) >> !ident_char]]
              [set_text];
// string = '"' { any character but '"' and newline } '"' ;
const auto string_text_def =
    x3::lexeme['"' >> x3::raw[*(x3::char_ - '"' - x3::eol)] > x3::lit('"')][set_text];
const auto boolean_text_def = kw("true")[set_true] | kw("false")[set_false];
// "[" value { "," value } "]"
const auto list_text_def = ('[' > value_list > close_bracket)[set_items];
// value = chain | number | string | "true" | "false" | list ;
const auto value_def = number | string | boolean | list | chain;
// arg = [ ident "=" ] value ;
// After `name =` a value is expected, so `units=)` is reported at the ')'.
const auto keyword_arg_def = &(identifier >> '=') >> identifier >> '=' > value;
const auto positional_arg_def = x3::attr(boost::optional<ast::Identifier>()) >> value;
const auto arg_def = keyword_arg | positional_arg;
// call = ident "(" [ arg { "," arg } ] ")" ;
const auto call_def = identifier >> '(' > -arg_list > close_paren;
// term = call | ident ;
const auto term_def = call | identifier;
// chain = term { "->" ( call | ident ) } ;
const auto chain_def = term >> *("->" > term);
// dim = integer | ident ;
const auto dim_def = number | identifier;
// type = "f32" "[" dim { "," dim } "]" ;
const auto tensor_type_def = type_word > '[' > dim_list > close_bracket;
// stmt = "input" ident ":" type | ident "=" chain | "output" ident { "," ident } ;
const auto input_stmt_def = kw("input") > identifier > ':' > tensor_type;
const auto output_stmt_text_def = (kw("output") > identifier_list)[set_names];
const auto assign_stmt_def = identifier > '=' > chain;
// A keyword followed by '=' is a statement that tries to bind a keyword: say so.
const auto stmt_def = -(&(keyword >> '=') > keyword_as_name) >>
                      (input_stmt | output_stmt | assign_stmt);
// model = "model" ident "{" { stmt } "}" ;
const auto model_def = kw("model") > identifier > '{' > *stmt > close_model;
// block = "block" ident "(" [ ident { "," ident } ] ")" "{" { stmt } "return" chain "}" ;
const auto block_def = kw("block") > identifier > '(' > -identifier_list > close_paren > '{' >
                       *stmt > block_return > chain > '}';
// file = { model | block } ;
const auto file_def = *(model | block) > end_of_file;

const auto identifier_def = identifier_text;
const auto type_word_def = type_word_text;
const auto number_def = number_text;
const auto string_def = string_text;
const auto boolean_def = boolean_text;
const auto list_def = list_text;
const auto output_stmt_def = output_stmt_text;
const auto close_paren_def = x3::lit(')');
const auto close_bracket_def = x3::lit(']');
const auto close_model_def = x3::lit('}');
const auto block_return_def = kw("return");
const auto end_of_file_def = x3::eoi;
const auto fraction_digits_def = +digit;
const auto exponent_digits_def = +digit;
const auto keyword_as_name_def = !x3::eps; // always fails: its expectation reports the keyword

BOOST_SPIRIT_DEFINE(identifier_text, type_word_text, number_text, string_text, boolean_text,
                    list_text, output_stmt_text)
BOOST_SPIRIT_DEFINE(identifier, type_word, number, string, boolean, list, value, arg, call, term,
                    chain, dim, tensor_type, input_stmt, output_stmt, assign_stmt, stmt, model,
                    block, file, close_paren, close_bracket, close_model, block_return, end_of_file,
                    fraction_digits, exponent_digits, keyword_as_name, keyword_arg, positional_arg)

// Every AST-producing rule records its position.
struct identifier_class : annotate_position {};
struct type_word_class : annotate_position {};
struct number_class : annotate_position {};
struct string_class : annotate_position {};
struct boolean_class : annotate_position {};
struct list_class : annotate_position {};
struct arg_class : annotate_position {};
struct keyword_arg_class : annotate_position {};
struct positional_arg_class : annotate_position {};
struct call_class : annotate_position {};
struct chain_class : annotate_position {};
struct tensor_type_class : annotate_position {};
struct input_stmt_class : annotate_position {};
struct output_stmt_class : annotate_position {};
struct assign_stmt_class : annotate_position {};
struct model_class : annotate_position {};
struct block_class : annotate_position {};

} // namespace nnc::grammar
