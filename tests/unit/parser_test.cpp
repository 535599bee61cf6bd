// The X3 grammar: AST shape, positions, every number form, comments, and syntax errors.
#include "grammar/parser.h"

#include <gtest/gtest.h>

namespace nnc {
namespace {

struct Parsed {
  std::optional<ast::File> file;
  std::string diagnostics;
};

Parsed parse(const std::string& text) {
  SourceFile source("t.nn", text);
  DiagnosticEngine engine(source);
  Parsed result;
  result.file = parseFile(source, engine);
  result.diagnostics = engine.render();
  return result;
}

const ast::Model& onlyModel(const Parsed& parsed) {
  return boost::get<ast::Model>(parsed.file->items.at(0));
}

TEST(Parser, ModelWithStatementsAndPositions) {
  std::string text = "model m {\n  input x: f32[N, 4]\n  h = dense(x, 3) -> relu\n  output h\n}";
  Parsed parsed = parse(text);
  ASSERT_TRUE(parsed.file) << parsed.diagnostics;
  const ast::Model& model = onlyModel(parsed);
  EXPECT_EQ(model.name.name, "m");
  EXPECT_EQ(model.name.range.offset, 6u);
  ASSERT_EQ(model.body.size(), 3u);
  const auto& input = boost::get<ast::InputStmt>(model.body[0]);
  EXPECT_EQ(input.name.name, "x");
  EXPECT_EQ(input.type.elementType.name, "f32");
  ASSERT_EQ(input.type.dims.size(), 2u);
  EXPECT_EQ(boost::get<ast::Identifier>(input.type.dims[0]).name, "N");
  EXPECT_EQ(boost::get<ast::Number>(input.type.dims[1]).text, "4");
  const auto& assign = boost::get<ast::AssignStmt>(model.body[1]);
  EXPECT_EQ(assign.name.name, "h");
  const auto& call = boost::get<ast::Call>(assign.value.head);
  EXPECT_EQ(call.callee.name, "dense");
  EXPECT_EQ(text.substr(call.range.offset, call.range.length), "dense(x, 3)");
  ASSERT_EQ(call.args.size(), 2u);
  EXPECT_FALSE(call.args[0].key);
  ASSERT_EQ(assign.value.links.size(), 1u);
  EXPECT_EQ(boost::get<ast::Identifier>(assign.value.links[0]).name, "relu");
  EXPECT_EQ(text.substr(assign.value.range.offset, assign.value.range.length),
            "dense(x, 3) -> relu");
  const auto& output = boost::get<ast::OutputStmt>(model.body[2]);
  ASSERT_EQ(output.names.size(), 1u);
}

TEST(Parser, KeywordArgumentsListsStringsAndBooleans) {
  Parsed parsed = parse("model m { input x: f32[1] y = f(x, k=[3, 5], pad=\"same\", b=false) "
                        "output y }");
  ASSERT_TRUE(parsed.file) << parsed.diagnostics;
  const auto& call =
      boost::get<ast::Call>(boost::get<ast::AssignStmt>(onlyModel(parsed).body[1]).value.head);
  ASSERT_EQ(call.args.size(), 4u);
  EXPECT_FALSE(call.args[0].key);
  ASSERT_TRUE(call.args[1].key);
  EXPECT_EQ(call.args[1].key->name, "k");
  const ast::List* list = ast::asList(call.args[1].value);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(boost::get<ast::Number>(list->items[1]).text, "5");
  EXPECT_EQ(boost::get<ast::String>(call.args[2].value).text, "same");
  EXPECT_FALSE(boost::get<ast::Boolean>(call.args[3].value).value);
}

TEST(Parser, EveryNumberForm) {
  for (std::string number : {"0", "42", "-7", "3.25", "-0.5", "1e5", "1E5", "2.5e-3", "-1.0E+10"}) {
    Parsed parsed = parse("model m { input x: f32[1] y = f(x, " + number + ") output y }");
    ASSERT_TRUE(parsed.file) << number << "\n" << parsed.diagnostics;
    const auto& call =
        boost::get<ast::Call>(boost::get<ast::AssignStmt>(onlyModel(parsed).body[1]).value.head);
    EXPECT_EQ(boost::get<ast::Number>(call.args[1].value).text, number);
  }
}

TEST(Parser, CommentsAndWhitespaceAnywhere) {
  Parsed parsed = parse("# head\nmodel#c\nm#c\n{#c\ninput#c\nx#c\n:#c\nf32#c\n[#c\n1#c\n]#c\n"
                        "y#c\n=#c\nx#c\n->#c\nrelu#c\noutput#c\ny#c\n}#c");
  ASSERT_TRUE(parsed.file) << parsed.diagnostics;
  EXPECT_EQ(onlyModel(parsed).body.size(), 3u);
}

TEST(Parser, BlocksAndSeveralModels) {
  Parsed parsed =
      parse("block b(x, c) { h = relu(x) return h } block e() { return f() }\n"
            "model a { input x: f32[1] output x } model c { input x: f32[1] output x }");
  ASSERT_TRUE(parsed.file) << parsed.diagnostics;
  ASSERT_EQ(parsed.file->items.size(), 4u);
  const auto& block = boost::get<ast::Block>(parsed.file->items[0]);
  EXPECT_EQ(block.params.size(), 2u);
  EXPECT_EQ(block.body.size(), 1u);
  EXPECT_TRUE(boost::get<ast::Block>(parsed.file->items[1]).params.empty());
}

TEST(Parser, EmptyFileIsValid) {
  EXPECT_TRUE(parse("").file);
  EXPECT_TRUE(parse("  # only a comment").file);
}

TEST(Parser, SyntaxErrorsPointAtTheToken) {
  Parsed missingParen = parse("model m {\n  y = dense(x 10)\n}");
  EXPECT_FALSE(missingParen.file);
  EXPECT_EQ(missingParen.diagnostics, "t.nn:2:15: error: expected ',' or ')', found '10'\n"
                                      "  y = dense(x 10)\n"
                                      "              ^~\n"
                                      "t.nn:2:12: note: to match this '('\n"
                                      "  y = dense(x 10)\n"
                                      "           ^\n"
                                      "1 error generated.\n");
  Parsed keyword = parse("model m { input output: f32[1] }");
  EXPECT_NE(keyword.diagnostics.find("1:17: error: expected identifier, found keyword 'output'"),
            std::string::npos)
      << keyword.diagnostics;
  Parsed atEnd = parse("model m {\n  input x: f32[1]");
  EXPECT_NE(atEnd.diagnostics.find("2:18: error: expected a statement or '}', found end of file"),
            std::string::npos)
      << atEnd.diagnostics;
  Parsed noReturn = parse("block b(x) { y = x }");
  EXPECT_NE(noReturn.diagnostics.find("expected a statement or 'return', found '}'"),
            std::string::npos)
      << noReturn.diagnostics;
  Parsed junk = parse("model m { input x: f32[1] }\n$");
  EXPECT_NE(junk.diagnostics.find("2:1: error: expected 'model' or 'block', found '$'"),
            std::string::npos)
      << junk.diagnostics;
  Parsed binary = parse(std::string("model m \x01"));
  EXPECT_NE(binary.diagnostics.find("found character 0x01"), std::string::npos)
      << binary.diagnostics;
}

TEST(Parser, RejectsNestingBeyondTheLimitWithoutCrashing) {
  std::string deep = "model m { input x: f32[1] y = ";
  for (int i = 0; i < 100000; ++i)
    deep += "f(";
  Parsed parsed = parse(deep);
  EXPECT_FALSE(parsed.file);
  EXPECT_NE(parsed.diagnostics.find("nesting deeper than 256 levels"), std::string::npos);
  std::string fine = "model m { input x: f32[1] y = ";
  for (int i = 0; i < 200; ++i)
    fine += "f(";
  fine += "x";
  for (int i = 0; i < 200; ++i)
    fine += ")";
  EXPECT_TRUE(parse(fine + " output y }").file);
}

} // namespace
} // namespace nnc
