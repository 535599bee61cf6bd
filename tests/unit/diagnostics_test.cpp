// Source locations, diagnostic rendering and nearest-name suggestions.
#include "grammar/diagnostics.h"

#include <gtest/gtest.h>

namespace nnc {
namespace {

TEST(SourceFile, MapsOffsetsToLinesAndColumns) {
  SourceFile file("f.nn", "ab\ncd\r\n\nxyz");
  EXPECT_EQ(file.lineColumn(0).line, 1u);
  EXPECT_EQ(file.lineColumn(1).column, 2u);
  EXPECT_EQ(file.lineColumn(3).line, 2u);
  EXPECT_EQ(file.lineColumn(3).column, 1u);
  EXPECT_EQ(file.lineColumn(8).line, 4u);
  EXPECT_EQ(file.lineText(2), "cd"); // without the \r
  EXPECT_EQ(file.lineText(3), "");
  EXPECT_EQ(file.lineText(4), "xyz");
  EXPECT_EQ(file.lineText(9), "");
  // Past the end clamps to the end of the file.
  EXPECT_EQ(file.lineColumn(1000).line, 4u);
  EXPECT_EQ(file.lineColumn(1000).column, 4u);
}

TEST(Diagnostics, RendersLikeClang) {
  SourceFile file("m.nn", "model m {\n  y = rleu(x)\n}\n");
  DiagnosticEngine engine(file);
  SourceDiagnostic& d = engine.error({16, 4}, "unknown operator 'rleu'; did you mean 'relu'?");
  addNote(d, {6, 1}, "a note");
  engine.warning({0, 5}, "a warning");
  EXPECT_EQ(engine.errorCount(), 1u);
  // In source order; a note stays with its diagnostic.
  EXPECT_EQ(engine.render(), "m.nn:1:1: warning: a warning\n"
                             "model m {\n"
                             "^~~~~\n"
                             "m.nn:2:7: error: unknown operator 'rleu'; did you mean 'relu'?\n"
                             "  y = rleu(x)\n"
                             "      ^~~~\n"
                             "m.nn:1:7: note: a note\n"
                             "model m {\n"
                             "      ^\n"
                             "1 warning and 1 error generated.\n");
}

TEST(Diagnostics, KeepsTabsSoTheCaretLinesUp) {
  SourceFile file("t.nn", "\t\tx = y");
  DiagnosticEngine engine(file);
  engine.error({6, 1}, "here");
  EXPECT_EQ(engine.render(), "t.nn:1:7: error: here\n\t\tx = y\n\t\t    ^\n1 error generated.\n");
}

TEST(Diagnostics, CaretAtEndOfFileAndAcrossLines) {
  SourceFile file("e.nn", "ab\ncd");
  DiagnosticEngine engine(file);
  engine.error({5, 0}, "at the end");
  engine.error({1, 4}, "spans a newline");
  std::string out = engine.render();
  EXPECT_NE(out.find("e.nn:2:3: error: at the end\ncd\n  ^\n"), std::string::npos) << out;
  // A range running past the line stops the tildes at the line's end.
  EXPECT_NE(out.find("e.nn:1:2: error: spans a newline\nab\n ^\n"), std::string::npos) << out;
}

TEST(Suggestions, NearestNameWithinATypo) {
  std::vector<std::string> names = {"relu", "relu6", "elu", "selu", "sigmoid", "softmax"};
  EXPECT_EQ(nearestName("rleu", names), "relu");
  EXPECT_EQ(nearestName("sigmod", names), "sigmoid");
  EXPECT_EQ(nearestName("softmx", names), "softmax");
  EXPECT_EQ(nearestName("convolution", names), "");
  EXPECT_EQ(nearestName("relu", names), "relu6");      // an exact match is not a suggestion
  EXPECT_EQ(nearestName("SOFTMAX", names), "softmax"); // case differences first
  EXPECT_EQ(nearestName("True", {"x", "true", "false"}), "true");
  EXPECT_EQ(didYouMean("strides", {"stride", "pad"}), "; did you mean 'stride'?");
  EXPECT_EQ(didYouMean("zzz", {"stride", "pad"}), "");
}

} // namespace
} // namespace nnc
