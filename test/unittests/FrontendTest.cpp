//===- FrontendTest.cpp - Unit tests of the dl lexer and parser -----------===//
//
// Checks tokens and their positions, operator precedence, every declaration
// form, constant folding, the AST dump, and each syntax error with the line
// and column it is reported at.
//
//===----------------------------------------------------------------------===//

#include "frontend/AST.h"
#include "frontend/Lexer.h"
#include "frontend/Parser.h"

#include "llvm/Support/Casting.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace dlc::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Lexes `source` into "kind:spelling@line:col" strings, one per token.
std::vector<std::string> lexAll(llvm::StringRef source) {
  std::vector<std::string> out;
  for (const Token &tok : Lexer::tokenize(source)) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << getTokenKindName(tok.kind);
    if (tok.is(TokenKind::Identifier) || tok.is(TokenKind::Number) ||
        tok.is(TokenKind::String))
      os << ':' << tok.spelling;
    os << '@' << tok.line << ':' << tok.col;
    out.push_back(s);
  }
  return out;
}

/// Parses `source`, failing the test on a syntax error.
std::unique_ptr<ModuleAST> parseOk(llvm::StringRef source) {
  std::string error;
  auto module = parseModule(source, "t.dl",
                            [&](const Location &loc, const llvm::Twine &msg) {
                              error = std::to_string(loc.line) + ":" +
                                      std::to_string(loc.col) + ": " +
                                      msg.str();
                            });
  EXPECT_TRUE(module) << error;
  EXPECT_EQ(error, "");
  return module;
}

/// Parses `source`, which must fail, and returns "line:col: message".
std::string parseError(llvm::StringRef source) {
  std::string error;
  unsigned reports = 0;
  auto module = parseModule(source, "t.dl",
                            [&](const Location &loc, const llvm::Twine &msg) {
                              ++reports;
                              EXPECT_EQ(*loc.file, "t.dl");
                              error = std::to_string(loc.line) + ":" +
                                      std::to_string(loc.col) + ": " +
                                      msg.str();
                            });
  EXPECT_FALSE(module) << "parsed without error: " << source.str();
  EXPECT_EQ(reports, 1u);
  return error;
}

/// Renders an expression as a fully parenthesised S-expression, e.g.
/// `(+ 1 (* 2 3))`, to check precedence and associativity.
std::string sexpr(const ExprAST &e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto *num = dyn_cast<NumberExprAST>(&e)) {
    os << llvm::format("%g", num->getValue());
  } else if (auto *name = dyn_cast<NameExprAST>(&e)) {
    os << name->getName();
  } else if (auto *str = dyn_cast<StringExprAST>(&e)) {
    os << '"' << str->getValue() << '"';
  } else if (auto *b = dyn_cast<BoolExprAST>(&e)) {
    os << (b->getValue() ? "true" : "false");
  } else if (auto *unary = dyn_cast<UnaryExprAST>(&e)) {
    os << "(neg " << sexpr(unary->getOperand()) << ')';
  } else if (auto *binary = dyn_cast<BinaryExprAST>(&e)) {
    os << '(' << BinaryExprAST::getOpSpelling(binary->getOp()) << ' '
       << sexpr(binary->getLHS()) << ' ' << sexpr(binary->getRHS()) << ')';
  } else if (auto *tensor = dyn_cast<TensorLiteralExprAST>(&e)) {
    os << '[';
    llvm::interleaveComma(tensor->getElements(), os,
                          [&](const ExprPtr &el) { os << sexpr(*el); });
    os << ']';
  } else if (auto *call = dyn_cast<CallExprAST>(&e)) {
    os << call->getCallee() << '(';
    bool first = true;
    for (const ExprPtr &arg : call->getArgs()) {
      os << (first ? "" : ", ") << sexpr(*arg);
      first = false;
    }
    for (const NamedExprAST &kw : call->getKwargs()) {
      os << (first ? "" : ", ") << kw.name << '=' << sexpr(*kw.value);
      first = false;
    }
    os << ')';
  }
  return s;
}

/// Parses `x = <expr>` and returns the S-expression of the value.
std::string parseExpr(llvm::StringRef expr) {
  std::string source = "x = " + expr.str() + "\n";
  auto module = parseOk(source);
  if (!module || module->getDecls().size() != 1)
    return "<error>";
  return sexpr(cast<LetDeclAST>(*module->getDecls()[0]).getValue());
}

/// Returns "line:col" of a location.
std::string pos(const Location &loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

TEST(LexerTest, PunctuationAndOperators) {
  EXPECT_EQ(lexAll("( ) [ ] { } , : ; = == != < <= > >= + - * / **"),
            (std::vector<std::string>{
                "(@1:1",  ")@1:3",  "[@1:5",   "]@1:7",  "{@1:9",
                "}@1:11", ",@1:13", ":@1:15",  ";@1:17", "=@1:19",
                "==@1:21", "!=@1:24", "<@1:27", "<=@1:29", ">@1:32",
                ">=@1:34", "+@1:37", "-@1:39", "*@1:41", "/@1:43",
                "**@1:45", "end of file@1:47"}));
}

TEST(LexerTest, NumbersIdentifiersAndStrings) {
  EXPECT_EQ(lexAll("3 3.0 1e-4 .5 2E+3 x_1 _y \"a/b.gz\""),
            (std::vector<std::string>{
                "number:3@1:1", "number:3.0@1:3", "number:1e-4@1:7",
                "number:.5@1:12", "number:2E+3@1:15", "identifier:x_1@1:20",
                "identifier:_y@1:24", "string:\"a/b.gz\"@1:27",
                "end of file@1:35"}));
  // A minus sign is its own token: `-0.5` is unary minus on a literal.
  EXPECT_EQ(lexAll("-0.5"),
            (std::vector<std::string>{"-@1:1", "number:0.5@1:2",
                                      "end of file@1:5"}));
}

TEST(LexerTest, StringEscapes) {
  auto tokens = Lexer::tokenize(R"("a\"b\\c\n")");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].kind, TokenKind::String);
  EXPECT_EQ(tokens[0].value, "a\"b\\c\n");
}

TEST(LexerTest, CommentsAndPositions) {
  EXPECT_EQ(lexAll("# header\n\nmodel m   # trailing\n  x = 1\n"),
            (std::vector<std::string>{
                "newline@1:9", "newline@2:1", "identifier:model@3:1",
                "identifier:m@3:7", "newline@3:21", "identifier:x@4:3",
                "=@4:5", "number:1@4:7", "newline@4:8", "end of file@5:1"}));
}

TEST(LexerTest, NewlinesInsideParensBracketsAndAfterComma) {
  // Inside ( and [ newlines vanish; after ',' too.
  EXPECT_EQ(lexAll("f(a,\n  b\n)\n[1\n]"),
            (std::vector<std::string>{
                "identifier:f@1:1", "(@1:2", "identifier:a@1:3", ",@1:4",
                "identifier:b@2:3", ")@3:1", "newline@3:2", "[@4:1",
                "number:1@4:2", "]@5:1", "end of file@5:2"}));
  // Inside { } they separate entries, even when a ( inside was closed.
  EXPECT_EQ(lexAll("{ a = f(\n1)\nb = 2 }"),
            (std::vector<std::string>{
                "{@1:1", "identifier:a@1:3", "=@1:5", "identifier:f@1:7",
                "(@1:8", "number:1@2:1", ")@2:2", "newline@2:3",
                "identifier:b@3:1", "=@3:3", "number:2@3:5", "}@3:7",
                "end of file@3:8"}));
  // A comment after a ',' does not end the continuation.
  EXPECT_EQ(lexAll("a, # c\nb"),
            (std::vector<std::string>{"identifier:a@1:1", ",@1:2",
                                      "identifier:b@2:1", "end of file@2:2"}));
}

TEST(LexerTest, Errors) {
  auto tokens = Lexer::tokenize("x = 1 $ 2");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[3].kind, TokenKind::Error);
  EXPECT_EQ(tokens[3].value, "unexpected character '$'");
  EXPECT_EQ(tokens[3].col, 7u);
  EXPECT_EQ(tokens[4].kind, TokenKind::Eof);

  tokens = Lexer::tokenize("\"abc\n\"");
  EXPECT_EQ(tokens[0].kind, TokenKind::Error);
  EXPECT_EQ(tokens[0].col, 1u);

  tokens = Lexer::tokenize("1e+");
  EXPECT_EQ(tokens[0].kind, TokenKind::Error);
  EXPECT_EQ(tokens[0].value, "expected digits in the exponent of number '1e+'");
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

TEST(ParserTest, Precedence) {
  EXPECT_EQ(parseExpr("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(parseExpr("1 * 2 + 3"), "(+ (* 1 2) 3)");
  EXPECT_EQ(parseExpr("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(parseExpr("8 / 4 / 2"), "(/ (/ 8 4) 2)");
  EXPECT_EQ(parseExpr("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(parseExpr("a + b == c * d"), "(== (+ a b) (* c d))");
  EXPECT_EQ(parseExpr("a != b"), "(!= a b)");
  EXPECT_EQ(parseExpr("a <= b - 1"), "(<= a (- b 1))");
  EXPECT_EQ(parseExpr("a > b"), "(> a b)");
  EXPECT_EQ(parseExpr("a >= b"), "(>= a b)");
  EXPECT_EQ(parseExpr("(a < b) == c"), "(== (< a b) c)");
}

TEST(ParserTest, UnaryMinusAndPower) {
  EXPECT_EQ(parseExpr("-0.5"), "(neg 0.5)");
  EXPECT_EQ(parseExpr("-x * y"), "(* (neg x) y)");
  EXPECT_EQ(parseExpr("x * -y"), "(* x (neg y))");
  EXPECT_EQ(parseExpr("--x"), "(neg (neg x))");
  EXPECT_EQ(parseExpr("-2 ** 2"), "(neg (** 2 2))");
  EXPECT_EQ(parseExpr("2 ** -1"), "(** 2 (neg 1))");
  EXPECT_EQ(parseExpr("2 ** 3 ** 2"), "(** 2 (** 3 2))");
  EXPECT_EQ(parseExpr("a * b ** 2"), "(* a (** b 2))");
  EXPECT_EQ(parseExpr("(-2) ** 2"), "(** (neg 2) 2)");
}

TEST(ParserTest, Primaries) {
  EXPECT_EQ(parseExpr("true"), "true");
  EXPECT_EQ(parseExpr("false"), "false");
  EXPECT_EQ(parseExpr("\"f.gz\""), "\"f.gz\"");
  EXPECT_EQ(parseExpr("[1, 2]"), "[1, 2]");
  EXPECT_EQ(parseExpr("[[1, 2], [3, 4]]"), "[[1, 2], [3, 4]]");
  EXPECT_EQ(parseExpr("[1/255, -1]"), "[(/ 1 255), (neg 1)]");
  EXPECT_EQ(parseExpr("[B, 784]"), "[B, 784]");
  EXPECT_EQ(parseExpr("[]"), "[]");
  EXPECT_EQ(parseExpr("[1,\n 2,\n]"), "[1, 2]");
  EXPECT_EQ(parseExpr("f()"), "f()");
  EXPECT_EQ(parseExpr("f(a, b, k=1, m=same)"), "f(a, b, k=1, m=same)");
  EXPECT_EQ(parseExpr("f(\n  a,\n  k = 2,\n)"), "f(a, k=2)");
  EXPECT_EQ(parseExpr("f(a == b)"), "f((== a b))");
  EXPECT_EQ(parseExpr("reshape(x, [B, -1])"), "reshape(x, [B, (neg 1)])");
}

TEST(ParserTest, NumberLiterals) {
  auto module = parseOk("a = 3\nb = 3.0\nc = 1e-4\nd = .5\n");
  ASSERT_TRUE(module);
  auto number = [&](unsigned i) {
    return &cast<NumberExprAST>(
        cast<LetDeclAST>(*module->getDecls()[i]).getValue());
  };
  EXPECT_EQ(number(0)->getValue(), 3.0);
  EXPECT_TRUE(number(0)->isInteger());
  EXPECT_EQ(number(1)->getValue(), 3.0);
  EXPECT_FALSE(number(1)->isInteger());
  EXPECT_EQ(number(2)->getValue(), 1e-4);
  EXPECT_FALSE(number(2)->isInteger());
  EXPECT_EQ(number(3)->getValue(), 0.5);
}

TEST(ParserTest, ExpressionLocations) {
  auto module = parseOk("y = conv2d(h, W,\n   stride=1) + -b ** 2\n");
  ASSERT_TRUE(module);
  auto &let = cast<LetDeclAST>(*module->getDecls()[0]);
  EXPECT_EQ(pos(let.loc()), "1:1");
  auto &add = cast<BinaryExprAST>(let.getValue());
  EXPECT_EQ(pos(add.loc()), "2:14"); // the operator
  auto &call = cast<CallExprAST>(add.getLHS());
  EXPECT_EQ(pos(call.loc()), "1:5");
  EXPECT_EQ(pos(call.getCalleeLoc()), "1:5");
  EXPECT_EQ(pos(call.getArgs()[1]->loc()), "1:15");
  ASSERT_EQ(call.getKwargs().size(), 1u);
  EXPECT_EQ(pos(call.getKwargs()[0].nameLoc), "2:4");
  EXPECT_EQ(pos(call.getKwargs()[0].value->loc()), "2:11");
  ASSERT_NE(call.getKwarg("stride"), nullptr);
  EXPECT_EQ(call.getKwarg("padding"), nullptr);
  auto &neg = cast<UnaryExprAST>(add.getRHS());
  EXPECT_EQ(pos(neg.loc()), "2:16");
  auto &pow = cast<BinaryExprAST>(neg.getOperand());
  EXPECT_EQ(pos(pow.loc()), "2:19");
  EXPECT_EQ(pos(pow.getLHS().loc()), "2:17");
}

TEST(ParserTest, FoldConstant) {
  auto fold = [](llvm::StringRef expr) -> std::optional<double> {
    auto module = parseOk(("x = " + expr + "\n").str());
    if (!module)
      return std::nullopt;
    return foldConstant(cast<LetDeclAST>(*module->getDecls()[0]).getValue());
  };
  EXPECT_EQ(fold("1/255"), 1.0 / 255);
  EXPECT_EQ(fold("7*7*64"), 3136.0);
  EXPECT_EQ(fold("-0.5"), -0.5);
  EXPECT_EQ(fold("2**-3"), 0.125);
  EXPECT_EQ(fold("-2**2"), -4.0);
  EXPECT_EQ(fold("(1 + 2) * 3 - 4"), 5.0);
  EXPECT_EQ(fold("1e-4"), 1e-4);
  EXPECT_EQ(fold("x + 1"), std::nullopt);
  EXPECT_EQ(fold("1 < 2"), std::nullopt);
  EXPECT_EQ(fold("[1]"), std::nullopt);
  EXPECT_EQ(fold("f(1)"), std::nullopt);
  EXPECT_EQ(fold("true"), std::nullopt);
}

TEST(ParserTest, StandaloneExpression) {
  std::string error;
  auto onError = [&](const Location &loc, const llvm::Twine &msg) {
    error = pos(loc) + ": " + msg.str();
  };
  auto e = parseExpression("[-1, 2.5]\n", "<feed>", onError);
  ASSERT_TRUE(e);
  EXPECT_EQ(sexpr(*e), "[(neg 1), 2.5]");
  EXPECT_FALSE(parseExpression("1 2", "<feed>", onError));
  EXPECT_EQ(error, "1:3: expected the end of the input after the expression, "
                   "found number '2'");
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

TEST(ParserTest, EveryDeclarationForm) {
  auto module = parseOk(R"(# leading comment
model mlp
input x: f32[B, 784]
input y: i32[B]
input s: f32[]
param W: f32[784, 10] = truncated_normal(stddev=0.1)
param b: f32[10] = [0.3]
def dense(h, W, b) = relu(matmul(h, W) + b)
h = dense(x, W, b)
loss = mean(softmax_cross_entropy(h, y))
metric accuracy = mean(argmax(h, axis=1) == y)
output probs = softmax(h)
output h
data train { x = idx("a.gz", scale=1/255); y = idx("b.gz") }
train {
  optimizer = adam(lr=1e-4)

  batch = 50   # comment
  freeze = [W, b]; seed = 1
}
)");
  ASSERT_TRUE(module);
  auto decls = module->getDecls();
  ASSERT_EQ(decls.size(), 14u);

  auto &model = cast<ModelDeclAST>(*decls[0]);
  EXPECT_EQ(model.getName(), "mlp");
  EXPECT_EQ(pos(model.loc()), "2:1");
  EXPECT_EQ(pos(model.getNameLoc()), "2:7");

  auto &x = cast<InputDeclAST>(*decls[1]);
  EXPECT_EQ(x.getName(), "x");
  EXPECT_EQ(pos(x.getNameLoc()), "3:7");
  EXPECT_EQ(x.getType().getElementType(), TypeAST::ElementType::F32);
  EXPECT_EQ(x.getType().getElementTypeName(), "f32");
  EXPECT_EQ(pos(x.getType().loc()), "3:10");
  ASSERT_EQ(x.getType().getDims().size(), 2u);
  EXPECT_TRUE(x.getType().getDims()[0].isSymbol());
  EXPECT_EQ(x.getType().getDims()[0].symbol, "B");
  EXPECT_EQ(pos(x.getType().getDims()[0].loc), "3:14");
  EXPECT_FALSE(x.getType().getDims()[1].isSymbol());
  EXPECT_EQ(x.getType().getDims()[1].size, 784);
  EXPECT_EQ(pos(x.getType().getDims()[1].loc), "3:17");

  auto &y = cast<InputDeclAST>(*decls[2]);
  EXPECT_EQ(y.getType().getElementType(), TypeAST::ElementType::I32);
  auto &s = cast<InputDeclAST>(*decls[3]);
  EXPECT_TRUE(s.getType().getDims().empty());

  auto &w = cast<ParamDeclAST>(*decls[4]);
  EXPECT_EQ(w.getName(), "W");
  EXPECT_EQ(sexpr(w.getInit()), "truncated_normal(stddev=0.1)");
  EXPECT_EQ(sexpr(cast<ParamDeclAST>(*decls[5]).getInit()), "[0.3]");

  auto &def = cast<DefDeclAST>(*decls[6]);
  EXPECT_EQ(def.getName(), "dense");
  EXPECT_EQ(pos(def.getNameLoc()), "8:5");
  ASSERT_EQ(def.getParams().size(), 3u);
  EXPECT_EQ(def.getParams()[1].name, "W");
  EXPECT_EQ(pos(def.getParams()[1].loc), "8:14");
  EXPECT_EQ(sexpr(def.getBody()), "relu((+ matmul(h, W) b))");

  auto &let = cast<LetDeclAST>(*decls[7]);
  EXPECT_EQ(let.getName(), "h");
  EXPECT_EQ(pos(let.getNameLoc()), "9:1");

  EXPECT_TRUE(isa<LossDeclAST>(*decls[8]));
  EXPECT_EQ(sexpr(cast<LossDeclAST>(*decls[8]).getValue()),
            "mean(softmax_cross_entropy(h, y))");

  auto &metric = cast<MetricDeclAST>(*decls[9]);
  EXPECT_EQ(metric.getName(), "accuracy");
  EXPECT_EQ(sexpr(metric.getValue()), "mean((== argmax(h, axis=1) y))");

  auto &probs = cast<OutputDeclAST>(*decls[10]);
  EXPECT_EQ(probs.getName(), "probs");
  ASSERT_NE(probs.getValue(), nullptr);
  auto &bare = cast<OutputDeclAST>(*decls[11]);
  EXPECT_EQ(bare.getName(), "h");
  EXPECT_EQ(bare.getValue(), nullptr);

  auto &data = cast<DataDeclAST>(*decls[12]);
  EXPECT_EQ(data.getSetName(), "train");
  EXPECT_EQ(pos(data.getSetLoc()), "14:6");
  ASSERT_EQ(data.getEntries().size(), 2u);
  EXPECT_EQ(data.getEntries()[0].name, "x");
  EXPECT_EQ(pos(data.getEntries()[0].nameLoc), "14:14");
  EXPECT_EQ(sexpr(*data.getEntries()[0].value),
            "idx(\"a.gz\", scale=(/ 1 255))");
  EXPECT_EQ(data.getEntries()[1].name, "y");

  auto &train = cast<TrainDeclAST>(*decls[13]);
  EXPECT_EQ(pos(train.loc()), "15:1");
  ASSERT_EQ(train.getEntries().size(), 4u);
  EXPECT_EQ(train.getEntries()[0].name, "optimizer");
  EXPECT_EQ(train.getEntries()[1].name, "batch");
  EXPECT_EQ(pos(train.getEntries()[1].nameLoc), "18:3");
  EXPECT_EQ(sexpr(*train.getEntries()[2].value), "[W, b]");
  EXPECT_EQ(train.getEntries()[3].name, "seed");
}

TEST(ParserTest, StatementSeparatorsAndEmptyBlocks) {
  auto module = parseOk("a = 1; b = 2;;\n\n  # only a comment\n"
                        "data test {}\ntrain {\n}\nc = f(1,\n2)");
  ASSERT_TRUE(module);
  ASSERT_EQ(module->getDecls().size(), 5u);
  EXPECT_TRUE(cast<DataDeclAST>(*module->getDecls()[2]).getEntries().empty());
  EXPECT_TRUE(cast<TrainDeclAST>(*module->getDecls()[3]).getEntries().empty());
  EXPECT_TRUE(parseOk(""));
  EXPECT_TRUE(parseOk("\n# nothing\n"));
}

TEST(ParserTest, KeywordsOnlyAtStatementStart) {
  auto module = parseOk("h = relu(input, model=1)\nmetric loss = mean(data)\n"
                        "output train = def + param");
  ASSERT_TRUE(module);
  EXPECT_EQ(sexpr(cast<LetDeclAST>(*module->getDecls()[0]).getValue()),
            "relu(input, model=1)");
  EXPECT_EQ(cast<MetricDeclAST>(*module->getDecls()[1]).getName(), "loss");
  EXPECT_EQ(cast<OutputDeclAST>(*module->getDecls()[2]).getName(), "train");
}

TEST(ParserTest, MnistExample) {
  auto module = parseOk(R"(# Deep CNN for MNIST
model mnist_cnn

input x: f32[B, 28, 28, 1]          # B is a symbolic batch size
input y: i32[B]                     # class ids 0..9

param W1: f32[5, 5, 1, 32]  = truncated_normal(stddev=0.1)
param b1: f32[32]           = fill(0.1)
param W2: f32[5, 5, 32, 64] = truncated_normal(stddev=0.1)
param b2: f32[64]           = fill(0.1)
param W3: f32[3136, 1024]   = truncated_normal(stddev=0.1)
param b3: f32[1024]         = fill(0.1)
param W4: f32[1024, 10]     = truncated_normal(stddev=0.1)
param b4: f32[10]           = fill(0.1)

def block(h, W, b) = max_pool(relu(conv2d(h, W, stride=1, padding=same) + b), window=2)

h2     = block(block(x, W1, b1), W2, b2)            # [B, 7, 7, 64]
f      = dropout(relu(matmul(flatten(h2), W3) + b3), rate=0.5)
logits = matmul(f, W4) + b4

loss = mean(softmax_cross_entropy(logits, y))
metric accuracy = mean(argmax(logits, axis=1) == y)
output probs = softmax(logits)

data train { x = idx("train-images-idx3-ubyte.gz", scale=1/255); y = idx("train-labels-idx1-ubyte.gz") }
data test  { x = idx("t10k-images-idx3-ubyte.gz",  scale=1/255); y = idx("t10k-labels-idx1-ubyte.gz") }

train {
  optimizer  = adam(lr=1e-4)
  batch      = 50
  steps      = 20000
  validation = 5000        # hold out the last 5000 training examples
  log_every  = 100
}
)");
  ASSERT_TRUE(module);
  EXPECT_EQ(module->getDecls().size(), 21u);
  auto &def = cast<DefDeclAST>(*module->getDecls()[11]);
  EXPECT_EQ(sexpr(def.getBody()),
            "max_pool(relu((+ conv2d(h, W, stride=1, padding=same) b)), "
            "window=2)");
}

//===----------------------------------------------------------------------===//
// Dump
//===----------------------------------------------------------------------===//

TEST(DumpTest, Format) {
  auto module = parseOk(R"(model m
input x: f32[B, 2]
param W: f32[2, 1] = normal(stddev=0.1)
def lin(a) = a * W
y = -lin(x) ** 2 + [1, 2.0]
loss = mean(y == 1e-4)
metric m = 3
output y
output s = "p" 
data train { x = [true, false] }
train { batch = 2 }
)");
  ASSERT_TRUE(module);
  std::string text;
  llvm::raw_string_ostream os(text);
  dump(*module, os);
  EXPECT_EQ(text, R"(Module @t.dl:1:1
  Model m @t.dl:1:1
  Input x f32[B, 2] @t.dl:2:1
  Param W f32[2, 1] @t.dl:3:1
    Call normal @t.dl:3:22
      Kwarg stddev @t.dl:3:29
        Number 0.1 @t.dl:3:36
  Def lin(a) @t.dl:4:1
    Binary * @t.dl:4:16
      Name a @t.dl:4:14
      Name W @t.dl:4:18
  Let y @t.dl:5:1
    Binary + @t.dl:5:18
      Unary - @t.dl:5:5
        Binary ** @t.dl:5:13
          Call lin @t.dl:5:6
            Name x @t.dl:5:10
          Number 2 @t.dl:5:16
      Tensor @t.dl:5:20
        Number 1 @t.dl:5:21
        Number 2.0 @t.dl:5:24
  Loss @t.dl:6:1
    Call mean @t.dl:6:8
      Binary == @t.dl:6:15
        Name y @t.dl:6:13
        Number 0.0001 @t.dl:6:18
  Metric m @t.dl:7:1
    Number 3 @t.dl:7:12
  Output y @t.dl:8:1
  Output s @t.dl:9:1
    String "p" @t.dl:9:12
  Data train @t.dl:10:1
    Entry x @t.dl:10:14
      Tensor @t.dl:10:18
        Bool true @t.dl:10:19
        Bool false @t.dl:10:25
  Train @t.dl:11:1
    Entry batch @t.dl:11:9
      Number 2 @t.dl:11:17
)");
}

//===----------------------------------------------------------------------===//
// Syntax errors
//===----------------------------------------------------------------------===//

TEST(ParserErrorTest, Lexical) {
  EXPECT_EQ(parseError("x = 1\ny = $"), "2:5: unexpected character '$'");
  EXPECT_EQ(parseError("data train { x = idx(\"a.gz) }"),
            "1:22: unterminated string, expected '\"' before the end of the "
            "line");
  EXPECT_EQ(parseError("x = 1e"),
            "1:7: expected digits in the exponent of number '1e'");
  EXPECT_EQ(parseError("x = 1e999"), "1:5: number '1e999' is out of range");
  EXPECT_EQ(parseError("x = 3x"),
            "1:6: unexpected character 'x' after number '3'");
  EXPECT_EQ(parseError("x = 1.5.2"),
            "1:8: unexpected character '.' after number '1.5'");
  EXPECT_EQ(parseError("x = \x01"), "1:5: unexpected character '\\x01'");
  EXPECT_EQ(parseError("x = a ! b"),
            "1:7: unexpected character '!', expected '!='");
  // A syntax error before a lexical one is reported first.
  EXPECT_EQ(parseError("x = )\n$"),
            "1:5: expected an expression, found ')'");
}

TEST(ParserErrorTest, Declarations) {
  EXPECT_EQ(parseError("42"), "1:1: expected a declaration, found number '42'");
  EXPECT_EQ(parseError("\n  (x)"), "2:3: expected a declaration, found '('");
  EXPECT_EQ(parseError("x"), "1:2: expected '=' after name 'x', found end of "
                             "file");
  EXPECT_EQ(parseError("x y"),
            "1:3: expected '=' after name 'x', found identifier 'y'");
  EXPECT_EQ(parseError("x = 1 2"),
            "1:7: expected newline or ';' after the declaration, found number "
            "'2'");
  EXPECT_EQ(parseError("model\n"),
            "1:6: expected a model name after 'model', found newline");
  EXPECT_EQ(parseError("input 3"),
            "1:7: expected an input name after 'input', found number '3'");
  EXPECT_EQ(parseError("input x f32[1]"),
            "1:9: expected ':' after input name 'x', found identifier 'f32'");
  EXPECT_EQ(parseError("param = 1"),
            "1:7: expected a param name after 'param', found '='");
  EXPECT_EQ(parseError("param W f32[1]"),
            "1:9: expected ':' after param name 'W', found identifier 'f32'");
  EXPECT_EQ(parseError("param W: f32[1] fill(0)"),
            "1:17: expected '=' after param type, found identifier 'fill'");
  EXPECT_EQ(parseError("param W: f32[1] ="),
            "1:18: expected an expression, found end of file");
  EXPECT_EQ(parseError("def (a) = a"),
            "1:5: expected a function name after 'def', found '('");
  EXPECT_EQ(parseError("def f a = a"),
            "1:7: expected '(' after function name 'f', found identifier 'a'");
  EXPECT_EQ(parseError("def f(a, 1) = a"),
            "1:10: expected a parameter name in the definition of 'f', found "
            "number '1'");
  EXPECT_EQ(parseError("def f(a b) = a"),
            "1:9: expected ')' to close the parameter list of 'f', found "
            "identifier 'b'");
  EXPECT_EQ(parseError("def f(a) a"),
            "1:10: expected '=' after the parameter list of 'f', found "
            "identifier 'a'");
  EXPECT_EQ(parseError("loss mean(x)"),
            "1:6: expected '=' after 'loss', found identifier 'mean'");
  EXPECT_EQ(parseError("metric = 1"),
            "1:8: expected a metric name after 'metric', found '='");
  EXPECT_EQ(parseError("metric acc mean(x)"),
            "1:12: expected '=' after metric name 'acc', found identifier "
            "'mean'");
  EXPECT_EQ(parseError("output = softmax(x)"),
            "1:8: expected an output name after 'output', found '='");
  EXPECT_EQ(parseError("output p softmax(x)"),
            "1:10: expected '=' or the end of the statement after output name "
            "'p', found identifier 'softmax'");
}

TEST(ParserErrorTest, Types) {
  EXPECT_EQ(parseError("input x: f64[2]"),
            "1:10: expected a type 'f32' or 'i32', found identifier 'f64'");
  EXPECT_EQ(parseError("input x: [2]"),
            "1:10: expected a type 'f32' or 'i32', found '['");
  EXPECT_EQ(parseError("input x: f32"),
            "1:13: expected '[' after element type 'f32', found end of file");
  EXPECT_EQ(parseError("input x: f32[2.5]"),
            "1:14: expected a dimension (an integer or a symbol), found number "
            "'2.5'");
  EXPECT_EQ(parseError("input x: f32[-1]"),
            "1:14: expected a dimension (an integer or a symbol), found '-'");
  EXPECT_EQ(parseError("input x: f32[B,]"),
            "1:16: expected a dimension (an integer or a symbol), found ']'");
  EXPECT_EQ(parseError("input x: f32[B 2]"),
            "1:16: expected ',' or ']' in the dimensions of the type, found "
            "number '2'");
  EXPECT_EQ(parseError("input x: f32[99999999999999999999]"),
            "1:14: dimension '99999999999999999999' is too large");
}

TEST(ParserErrorTest, Blocks) {
  EXPECT_EQ(parseError("data { x = 1 }"),
            "1:6: expected a data set name after 'data', found '{'");
  EXPECT_EQ(parseError("data train\n{ x = 1 }"),
            "1:11: expected '{' after data set name 'train', found newline");
  EXPECT_EQ(parseError("train batch = 1"),
            "1:7: expected '{' after 'train', found identifier 'batch'");
  EXPECT_EQ(parseError("data train { 1 }"),
            "1:14: expected an entry 'NAME = VALUE' or '}' in the data block, "
            "found number '1'");
  EXPECT_EQ(parseError("data train { x 1 }"),
            "1:16: expected '=' after 'x' in the data block, found number '1'");
  EXPECT_EQ(parseError("train { batch = 1 steps = 2 }"),
            "1:19: expected newline, ';' or '}' after an entry in the train "
            "block, found identifier 'steps'");
  EXPECT_EQ(parseError("train {\n  batch = 1,\n  steps = 2 }"),
            "2:12: expected newline, ';' or '}' after an entry in the train "
            "block, found ','");
  EXPECT_EQ(parseError("train {\n  batch = 1\n"),
            "2:12: expected '}' to close the train block, found end of file");
  EXPECT_EQ(parseError("train { batch = 1 } x = 2"),
            "1:21: expected newline or ';' after the declaration, found "
            "identifier 'x'");
}

TEST(ParserErrorTest, Expressions) {
  EXPECT_EQ(parseError("x = )"), "1:5: expected an expression, found ')'");
  EXPECT_EQ(parseError("x = 1 +\n2"),
            "1:8: expected an expression, found newline");
  EXPECT_EQ(parseError("x = (1 + 2"),
            "1:11: expected ')' to close the parenthesised expression, found "
            "end of file");
  EXPECT_EQ(parseError("x = [1, 2\ny = 3"),
            "2:1: expected ']' to close the tensor literal, found identifier "
            "'y'");
  EXPECT_EQ(parseError("x = [1 2]"),
            "1:8: expected ']' to close the tensor literal, found number '2'");
  EXPECT_EQ(parseError("x = conv2d(h, W; y)"),
            "1:16: expected ')' to close the call to 'conv2d', found ';'");
  EXPECT_EQ(parseError("x = conv2d(h W)"),
            "1:14: expected ')' to close the call to 'conv2d', found "
            "identifier 'W'");
  EXPECT_EQ(parseError("x = f(a, k=1, b)"),
            "1:15: expected a keyword argument 'NAME=VALUE' after keyword "
            "argument 'k' in the call to 'f', found a positional argument");
  EXPECT_EQ(parseError("x = f(k=)"), "1:9: expected an expression, found ')'");
  EXPECT_EQ(parseError("x = a < b < c"),
            "1:11: expected the end of the comparison (comparisons do not "
            "chain; add parentheses), found '<'");
  EXPECT_EQ(parseError("x = 2 ** * 3"),
            "1:10: expected an expression, found '*'");
  EXPECT_EQ(parseError("x = 1 = 2"),
            "1:7: expected newline or ';' after the declaration, found '='");
}

TEST(ParserErrorTest, NestingLimit) {
  std::string deep = "x = " + std::string(1000, '(') + "1" +
                     std::string(1000, ')');
  EXPECT_EQ(parseError(deep),
            "1:261: expression is nested too deeply (more than 256 levels)");
}

} // namespace
