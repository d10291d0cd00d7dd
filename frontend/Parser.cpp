//===- Parser.cpp - Recursive-descent parser of the dl language -----------===//
//
// A recursive-descent parser over the lexer's tokens, one function per
// grammar rule, each with its production in the comment above it. It builds
// the AST without semantic checks and stops at the first syntax error,
// reporting it at the offending token as "expected X, found Y".
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace dlc::frontend;

namespace {

/// How deeply expressions may nest before the parser gives up, so that a
/// pathological input cannot overflow the stack.
constexpr unsigned kMaxNesting = 256;

/// How deep an expression tree may be (a chain `x + x + ...` of n terms is n
/// deep). Every later walk of the tree (constant folding, code generation,
/// the dump, destruction) recurses along it; compileModel() gives them a
/// stack of kFrontendStack bytes (compiler/Compiler.h), enough for this depth.
constexpr unsigned kMaxDepth = 20000;

/// The largest integer dimension accepted: beyond 2^53 a double literal no
/// longer holds every integer exactly.
constexpr double kMaxDim = 9007199254740992.0;

/// Parses one buffer. Every parseX function returns null (or std::nullopt)
/// after reporting an error, and its caller returns at once.
class Parser {
public:
  Parser(llvm::StringRef source, llvm::StringRef filename,
         const ErrorHandler &onError)
      : lexer(source, filename), onError(onError) {
    do
      tokens.push_back(lexer.lex());
    while (!tokens.back().is(TokenKind::Eof));
  }

  std::unique_ptr<ModuleAST> parseModule();
  ExprPtr parseStandaloneExpression();

private:
  //===--------------------------------------------------------------------===//
  // Token helpers
  //===--------------------------------------------------------------------===//

  /// The current token.
  const Token &tok() const { return tokens[pos]; }
  /// The token `n` after the current one (Eof past the end).
  const Token &peek(unsigned n = 1) const {
    return tokens[std::min<size_t>(pos + n, tokens.size() - 1)];
  }
  Location locOf(const Token &t) const { return lexer.getLocation(t); }
  Location loc() const { return locOf(tok()); }
  void consume() {
    if (pos + 1 < tokens.size())
      ++pos;
  }
  bool consumeIf(TokenKind kind) {
    if (!tok().is(kind))
      return false;
    consume();
    return true;
  }
  /// True at a newline, ';' or the end of the file.
  bool atStatementEnd() const {
    return tok().is(TokenKind::Newline) || tok().is(TokenKind::Semicolon) ||
           tok().is(TokenKind::Eof);
  }
  /// Skips newlines and ';'.
  void skipSeparators() {
    while (tok().is(TokenKind::Newline) || tok().is(TokenKind::Semicolon))
      consume();
  }

  //===--------------------------------------------------------------------===//
  // Errors
  //===--------------------------------------------------------------------===//

  /// Reports `message` at `where`; only the first error is reported.
  /// Builds an expression node, or reports an error at it if the tree it
  /// tops is deeper than kMaxDepth.
  template <typename T, typename... Args> ExprPtr node(Args &&...args) {
    auto e = std::make_unique<T>(std::forward<Args>(args)...);
    if (e->getDepth() > kMaxDepth)
      return errorAt(e->loc(), "expression is too deep (more than " +
                                   llvm::Twine(kMaxDepth) +
                                   " levels of operators, calls and lists)");
    return e;
  }
  std::nullptr_t errorAt(const Location &where, const llvm::Twine &message) {
    if (!hadError)
      onError(where, message);
    hadError = true;
    return nullptr;
  }
  /// Reports "expected <what>, found <current token>" at the current token,
  /// or the lexer's message if the current token is a lexical error.
  ///
  /// At the end of the file the error points just past the last token, where
  /// the missing text belongs, rather than at a line after the last one.
  std::nullptr_t expected(const llvm::Twine &what) {
    if (tok().is(TokenKind::Error))
      return errorAt(loc(), tok().value);
    Location where = loc();
    if (tok().is(TokenKind::Eof) && pos > 0) {
      const Token &prev = tokens[pos - 1];
      where = locOf(prev);
      if (!prev.is(TokenKind::Newline))
        where.col += prev.spelling.size();
    }
    return errorAt(where,
                   "expected " + what + ", found " + describeToken(tok()));
  }

  //===--------------------------------------------------------------------===//
  // Grammar rules
  //===--------------------------------------------------------------------===//

  DeclPtr parseDeclaration();
  bool isDeviceBlock() const;
  bool parseDeviceBlock(std::vector<DeclPtr> &decls);
  DeclPtr parseModel();
  DeclPtr parseInput();
  DeclPtr parseParam();
  DeclPtr parseDef();
  DeclPtr parseLoss();
  DeclPtr parseMetric();
  DeclPtr parseOutput();
  DeclPtr parseData();
  DeclPtr parseTrain();
  DeclPtr parseLet();
  bool parseBlock(llvm::StringRef blockName,
                  std::vector<NamedExprAST> &entries);
  std::optional<TypeAST> parseType();

  ExprPtr parseExpression();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePower();
  ExprPtr parsePrimary();
  ExprPtr parseCall();
  ExprPtr parseTensorLiteral();
  ExprPtr parseParenExpression();

  Lexer lexer;
  const ErrorHandler &onError;
  llvm::SmallVector<Token, 0> tokens;
  size_t pos = 0;
  bool hadError = false;
  unsigned nesting = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// module ::= separator* (declaration (separator+ declaration)*)? separator* EOF
/// separator ::= newline | ';'
std::unique_ptr<ModuleAST> Parser::parseModule() {
  Location start{lexer.getFile(), 1, 1};
  std::vector<DeclPtr> decls;
  skipSeparators();
  while (!tok().is(TokenKind::Eof)) {
    if (isDeviceBlock()) {
      if (!parseDeviceBlock(decls))
        return nullptr;
    } else {
      DeclPtr decl = parseDeclaration();
      if (!decl)
        return nullptr;
      decls.push_back(std::move(decl));
    }
    if (!atStatementEnd())
      return expected("newline or ';' after the declaration");
    skipSeparators();
  }
  return std::make_unique<ModuleAST>(std::move(start), std::move(decls));
}

/// `device` starts a block where a declaration may start, unless it is bound
/// (`device = ...`).
bool Parser::isDeviceBlock() const {
  return tok().is(TokenKind::Identifier) && tok().spelling == "device" &&
         !peek().is(TokenKind::Equal);
}

/// device_block ::= 'device' device_name '{' separator*
///                  (block_item (separator+ block_item)*)? separator* '}'
/// device_name ::= 'cpu' | 'cuda' (':' integer)?
/// block_item ::= declaration | device_block
///
/// The block's declarations join the module's (names bound inside stay
/// visible after it), each pinned to the innermost block's device.
bool Parser::parseDeviceBlock(std::vector<DeclPtr> &decls) {
  consume();
  Location nameLoc = loc();
  if (!tok().is(TokenKind::Identifier)) {
    expected("a device after 'device' (cpu, cuda or cuda:N)");
    return false;
  }
  std::string device = tok().spelling.str();
  consume();
  if (device == "cuda" && tok().is(TokenKind::Colon)) {
    consume();
    llvm::StringRef digits = tok().spelling;
    if (!tok().is(TokenKind::Number) || digits.empty() || digits.size() > 4 ||
        !llvm::all_of(digits, llvm::isDigit)) {
      expected("a GPU number after 'cuda:'");
      return false;
    }
    device += ":" + digits.str();
    consume();
  } else if (device == "cuda") {
    device = "cuda:0";
  } else if (device != "cpu") {
    errorAt(nameLoc, "unknown device '" + device + "'; expected cpu, cuda or cuda:N");
    return false;
  }
  if (!consumeIf(TokenKind::LBrace)) {
    expected("'{' after the device");
    return false;
  }
  skipSeparators();
  while (!tok().is(TokenKind::RBrace)) {
    if (tok().is(TokenKind::Eof)) {
      expected("'}' to close the device block");
      return false;
    }
    if (isDeviceBlock()) {
      if (!parseDeviceBlock(decls))
        return false;
    } else {
      if (tok().is(TokenKind::Identifier) &&
          llvm::is_contained({"model", "data", "train"}, tok().spelling)) {
        errorAt(loc(), "'" + tok().spelling.str() +
                           "' cannot be inside a device block; it holds declarations of "
                           "values (input, param, NAME = ..., def, loss, metric, output)");
        return false;
      }
      DeclPtr decl = parseDeclaration();
      if (!decl)
        return false;
      decl->setDevice(device);
      decls.push_back(std::move(decl));
    }
    if (!atStatementEnd() && !tok().is(TokenKind::RBrace)) {
      expected("newline, ';' or '}' after the declaration");
      return false;
    }
    skipSeparators();
  }
  consume(); // '}'
  return true;
}

/// declaration ::= model | input | param | def | loss | metric | output
///               | data | train | let
///
/// The keywords are ordinary identifiers everywhere but at the start of a
/// declaration, so `x = input(...)` or `relu(h, model=1)` would parse, but no
/// keyword can be bound with `NAME = EXPR`.
DeclPtr Parser::parseDeclaration() {
  if (!tok().is(TokenKind::Identifier))
    return expected("a declaration");
  llvm::StringRef word = tok().spelling;
  if (word == "model")
    return parseModel();
  if (word == "input")
    return parseInput();
  if (word == "param")
    return parseParam();
  if (word == "def")
    return parseDef();
  if (word == "loss")
    return parseLoss();
  if (word == "metric")
    return parseMetric();
  if (word == "output")
    return parseOutput();
  if (word == "data")
    return parseData();
  if (word == "train")
    return parseTrain();
  return parseLet();
}

/// model ::= 'model' identifier
DeclPtr Parser::parseModel() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("a model name after 'model'");
  std::string name = tok().spelling.str();
  Location nameLoc = loc();
  consume();
  return std::make_unique<ModelDeclAST>(std::move(start), std::move(name),
                                        std::move(nameLoc));
}

/// input ::= 'input' identifier ':' type
DeclPtr Parser::parseInput() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("an input name after 'input'");
  std::string name = tok().spelling.str();
  Location nameLoc = loc();
  consume();
  if (!consumeIf(TokenKind::Colon))
    return expected("':' after input name '" + name + "'");
  std::optional<TypeAST> type = parseType();
  if (!type)
    return nullptr;
  return std::make_unique<InputDeclAST>(std::move(start), std::move(name),
                                        std::move(nameLoc), std::move(*type));
}

/// param ::= 'param' identifier ':' type '=' expr
DeclPtr Parser::parseParam() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("a param name after 'param'");
  std::string name = tok().spelling.str();
  Location nameLoc = loc();
  consume();
  if (!consumeIf(TokenKind::Colon))
    return expected("':' after param name '" + name + "'");
  std::optional<TypeAST> type = parseType();
  if (!type)
    return nullptr;
  if (!consumeIf(TokenKind::Equal))
    return expected("'=' after param type");
  ExprPtr init = parseExpression();
  if (!init)
    return nullptr;
  return std::make_unique<ParamDeclAST>(std::move(start), std::move(name),
                                        std::move(nameLoc), std::move(*type),
                                        std::move(init));
}

/// def ::= 'def' identifier '(' (identifier (',' identifier)*)? ')' '=' expr
DeclPtr Parser::parseDef() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("a function name after 'def'");
  std::string name = tok().spelling.str();
  Location nameLoc = loc();
  consume();
  if (!consumeIf(TokenKind::LParen))
    return expected("'(' after function name '" + name + "'");
  std::vector<DefParamAST> params;
  if (!tok().is(TokenKind::RParen)) {
    do {
      if (!tok().is(TokenKind::Identifier))
        return expected("a parameter name in the definition of '" + name +
                        "'");
      params.push_back({tok().spelling.str(), loc()});
      consume();
    } while (consumeIf(TokenKind::Comma));
  }
  if (!consumeIf(TokenKind::RParen))
    return expected("')' to close the parameter list of '" + name + "'");
  if (!consumeIf(TokenKind::Equal))
    return expected("'=' after the parameter list of '" + name + "'");
  ExprPtr body = parseExpression();
  if (!body)
    return nullptr;
  return std::make_unique<DefDeclAST>(std::move(start), std::move(name),
                                      std::move(nameLoc), std::move(params),
                                      std::move(body));
}

/// loss ::= 'loss' '=' expr
DeclPtr Parser::parseLoss() {
  Location start = loc();
  consume();
  if (!consumeIf(TokenKind::Equal))
    return expected("'=' after 'loss'");
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<LossDeclAST>(std::move(start), std::move(value));
}

/// metric ::= 'metric' identifier '=' expr
DeclPtr Parser::parseMetric() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("a metric name after 'metric'");
  std::string name = tok().spelling.str();
  Location nameLoc = loc();
  consume();
  if (!consumeIf(TokenKind::Equal))
    return expected("'=' after metric name '" + name + "'");
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<MetricDeclAST>(std::move(start), std::move(name),
                                         std::move(nameLoc), std::move(value));
}

/// output ::= 'output' identifier ('=' expr)?
DeclPtr Parser::parseOutput() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("an output name after 'output'");
  std::string name = tok().spelling.str();
  Location nameLoc = loc();
  consume();
  ExprPtr value;
  if (consumeIf(TokenKind::Equal)) {
    value = parseExpression();
    if (!value)
      return nullptr;
  } else if (!atStatementEnd()) {
    return expected("'=' or the end of the statement after output name '" +
                    name + "'");
  }
  return std::make_unique<OutputDeclAST>(std::move(start), std::move(name),
                                         std::move(nameLoc), std::move(value));
}

/// data ::= 'data' identifier block
DeclPtr Parser::parseData() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::Identifier))
    return expected("a data set name after 'data'");
  std::string setName = tok().spelling.str();
  Location setLoc = loc();
  consume();
  if (!tok().is(TokenKind::LBrace))
    return expected("'{' after data set name '" + setName + "'");
  std::vector<NamedExprAST> entries;
  if (!parseBlock("data block", entries))
    return nullptr;
  return std::make_unique<DataDeclAST>(std::move(start), std::move(setName),
                                       std::move(setLoc), std::move(entries));
}

/// train ::= 'train' block
DeclPtr Parser::parseTrain() {
  Location start = loc();
  consume();
  if (!tok().is(TokenKind::LBrace))
    return expected("'{' after 'train'");
  std::vector<NamedExprAST> entries;
  if (!parseBlock("train block", entries))
    return nullptr;
  return std::make_unique<TrainDeclAST>(std::move(start), std::move(entries));
}

/// block ::= '{' separator* (entry (separator+ entry)*)? separator* '}'
/// entry ::= identifier '=' expr
///
/// Unlike in `(` and `[`, a newline inside `{ }` ends an entry.
bool Parser::parseBlock(llvm::StringRef blockName,
                        std::vector<NamedExprAST> &entries) {
  // Reports "expected <what>" and returns false.
  auto fail = [&](const llvm::Twine &what) {
    expected(what);
    return false;
  };
  consume(); // '{'
  skipSeparators();
  while (!consumeIf(TokenKind::RBrace)) {
    if (tok().is(TokenKind::Eof))
      return fail("'}' to close the " + blockName);
    if (!tok().is(TokenKind::Identifier))
      return fail("an entry 'NAME = VALUE' or '}' in the " + blockName);
    std::string name = tok().spelling.str();
    Location nameLoc = loc();
    consume();
    if (!consumeIf(TokenKind::Equal))
      return fail("'=' after '" + name + "' in the " + blockName);
    ExprPtr value = parseExpression();
    if (!value)
      return false;
    entries.push_back({std::move(name), std::move(nameLoc), std::move(value)});
    if (tok().is(TokenKind::RBrace))
      continue;
    if (!tok().is(TokenKind::Newline) && !tok().is(TokenKind::Semicolon))
      return fail("newline, ';' or '}' after an entry in the " + blockName);
    skipSeparators();
  }
  return true;
}

/// let ::= identifier '=' expr
DeclPtr Parser::parseLet() {
  std::string name = tok().spelling.str();
  Location start = loc();
  consume();
  if (!consumeIf(TokenKind::Equal))
    return expected("'=' after name '" + name + "'");
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<LetDeclAST>(std::move(start), std::move(name),
                                      std::move(value));
}

/// type ::= ('f32' | 'i32') '[' (dim (',' dim)*)? ']'
/// dim  ::= integer | identifier
std::optional<TypeAST> Parser::parseType() {
  TypeAST::ElementType elementType;
  if (tok().isIdentifier("f32")) {
    elementType = TypeAST::ElementType::F32;
  } else if (tok().isIdentifier("i32")) {
    elementType = TypeAST::ElementType::I32;
  } else {
    expected("a type 'f32' or 'i32'");
    return std::nullopt;
  }
  Location start = loc();
  llvm::StringRef typeName = tok().spelling;
  consume();
  if (!consumeIf(TokenKind::LBracket)) {
    expected("'[' after element type '" + typeName + "'");
    return std::nullopt;
  }
  std::vector<DimAST> dims;
  if (!tok().is(TokenKind::RBracket)) {
    do {
      DimAST dim;
      dim.loc = loc();
      if (tok().is(TokenKind::Identifier)) {
        dim.symbol = tok().spelling.str();
      } else if (tok().is(TokenKind::Number) &&
                 tok().spelling.find_first_of(".eE") == llvm::StringRef::npos) {
        double value = 0;
        tok().spelling.getAsDouble(value);
        if (value > kMaxDim) {
          errorAt(loc(), "dimension '" + tok().spelling + "' is too large");
          return std::nullopt;
        }
        dim.size = static_cast<int64_t>(value);
      } else {
        expected("a dimension (an integer or a symbol)");
        return std::nullopt;
      }
      consume();
      dims.push_back(std::move(dim));
    } while (consumeIf(TokenKind::Comma));
  }
  if (!consumeIf(TokenKind::RBracket)) {
    expected("',' or ']' in the dimensions of the type");
    return std::nullopt;
  }
  return TypeAST(std::move(start), elementType, std::move(dims));
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// expr ::= additive (('==' | '!=' | '<' | '<=' | '>' | '>=') additive)?
///
/// Comparisons do not chain: `a < b < c` is an error, not Python's
/// `a < b and b < c` nor C's `(a < b) < c`.
ExprPtr Parser::parseExpression() {
  auto comparisonOp = [](TokenKind kind) -> std::optional<BinaryExprAST::Op> {
    switch (kind) {
    case TokenKind::EqualEqual:
      return BinaryExprAST::Op::Eq;
    case TokenKind::NotEqual:
      return BinaryExprAST::Op::Ne;
    case TokenKind::Less:
      return BinaryExprAST::Op::Lt;
    case TokenKind::LessEqual:
      return BinaryExprAST::Op::Le;
    case TokenKind::Greater:
      return BinaryExprAST::Op::Gt;
    case TokenKind::GreaterEqual:
      return BinaryExprAST::Op::Ge;
    default:
      return std::nullopt;
    }
  };
  ExprPtr lhs = parseAdditive();
  if (!lhs)
    return nullptr;
  std::optional<BinaryExprAST::Op> op = comparisonOp(tok().kind);
  if (!op)
    return lhs;
  Location opLoc = loc();
  consume();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  if (comparisonOp(tok().kind))
    return expected("the end of the comparison (comparisons do not chain; "
                    "add parentheses)");
  return node<BinaryExprAST>(std::move(opLoc), *op, std::move(lhs),
                                         std::move(rhs));
}

/// additive ::= multiplicative (('+' | '-') multiplicative)*
ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseMultiplicative();
  if (!lhs)
    return nullptr;
  while (tok().is(TokenKind::Plus) || tok().is(TokenKind::Minus)) {
    auto op = tok().is(TokenKind::Plus) ? BinaryExprAST::Op::Add
                                        : BinaryExprAST::Op::Sub;
    Location opLoc = loc();
    consume();
    ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = node<BinaryExprAST>(std::move(opLoc), op, std::move(lhs),
                              std::move(rhs));
    if (!lhs)
      return nullptr;
  }
  return lhs;
}

/// multiplicative ::= unary (('*' | '/') unary)*
ExprPtr Parser::parseMultiplicative() {
  ExprPtr lhs = parseUnary();
  if (!lhs)
    return nullptr;
  while (tok().is(TokenKind::Star) || tok().is(TokenKind::Slash)) {
    auto op = tok().is(TokenKind::Star) ? BinaryExprAST::Op::Mul
                                        : BinaryExprAST::Op::Div;
    Location opLoc = loc();
    consume();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = node<BinaryExprAST>(std::move(opLoc), op, std::move(lhs),
                              std::move(rhs));
    if (!lhs)
      return nullptr;
  }
  return lhs;
}

/// unary ::= '-' unary | power
///
/// Every nested expression passes through here, so this is where the nesting
/// depth is limited.
ExprPtr Parser::parseUnary() {
  if (nesting >= kMaxNesting)
    return errorAt(loc(), "expression is nested too deeply (more than " +
                              llvm::Twine(kMaxNesting) + " levels)");
  ++nesting;
  ExprPtr result;
  if (tok().is(TokenKind::Minus)) {
    Location opLoc = loc();
    consume();
    if (ExprPtr operand = parseUnary())
      result = node<UnaryExprAST>(
          std::move(opLoc), UnaryExprAST::Op::Neg, std::move(operand));
  } else {
    result = parsePower();
  }
  --nesting;
  return result;
}

/// power ::= primary ('**' unary)?
///
/// `**` is right-associative and binds tighter than a unary minus on its left
/// but takes one on its right, as in Python: `-2**2` is `-(2**2)`, `2**-1` is
/// `2**(-1)` and `2**3**2` is `2**(3**2)`.
ExprPtr Parser::parsePower() {
  ExprPtr base = parsePrimary();
  if (!base || !tok().is(TokenKind::StarStar))
    return base;
  Location opLoc = loc();
  consume();
  ExprPtr exponent = parseUnary();
  if (!exponent)
    return nullptr;
  return node<BinaryExprAST>(std::move(opLoc),
                                         BinaryExprAST::Op::Pow,
                                         std::move(base), std::move(exponent));
}

/// primary ::= number | string | 'true' | 'false' | identifier | call
///           | tensor | '(' expr ')'
ExprPtr Parser::parsePrimary() {
  const Token &t = tok();
  switch (t.kind) {
  case TokenKind::Number: {
    double value = 0;
    t.spelling.getAsDouble(value);
    bool isInteger = t.spelling.find_first_of(".eE") == llvm::StringRef::npos;
    auto num = std::make_unique<NumberExprAST>(loc(), value, isInteger);
    consume();
    return num;
  }
  case TokenKind::String: {
    auto str = std::make_unique<StringExprAST>(loc(), t.value);
    consume();
    return str;
  }
  case TokenKind::Identifier: {
    if (t.spelling == "true" || t.spelling == "false") {
      auto b = std::make_unique<BoolExprAST>(loc(), t.spelling == "true");
      consume();
      return b;
    }
    if (peek().is(TokenKind::LParen))
      return parseCall();
    auto name = std::make_unique<NameExprAST>(loc(), t.spelling.str());
    consume();
    return name;
  }
  case TokenKind::LBracket:
    return parseTensorLiteral();
  case TokenKind::LParen:
    return parseParenExpression();
  default:
    return expected("an expression");
  }
}

/// call     ::= identifier '(' (argument (',' argument)* ','?)? ')'
/// argument ::= (identifier '=')? expr
///
/// Positional arguments must come before keyword arguments.
ExprPtr Parser::parseCall() {
  std::string callee = tok().spelling.str();
  Location calleeLoc = loc();
  consume(); // identifier
  consume(); // '('
  std::vector<ExprPtr> args;
  std::vector<NamedExprAST> kwargs;
  while (!tok().is(TokenKind::RParen)) {
    if (tok().is(TokenKind::Identifier) && peek().is(TokenKind::Equal)) {
      std::string name = tok().spelling.str();
      Location nameLoc = loc();
      consume(); // identifier
      consume(); // '='
      ExprPtr value = parseExpression();
      if (!value)
        return nullptr;
      kwargs.push_back({std::move(name), std::move(nameLoc), std::move(value)});
    } else {
      if (!kwargs.empty() && !tok().is(TokenKind::Error))
        return errorAt(loc(), "expected a keyword argument 'NAME=VALUE' after "
                              "keyword argument '" +
                                  kwargs.back().name + "' in the call to '" +
                                  callee + "', found a positional argument");
      ExprPtr arg = parseExpression();
      if (!arg)
        return nullptr;
      args.push_back(std::move(arg));
    }
    if (!consumeIf(TokenKind::Comma))
      break;
  }
  if (!consumeIf(TokenKind::RParen))
    return expected("')' to close the call to '" + callee + "'");
  return node<CallExprAST>(std::move(calleeLoc), std::move(callee),
                                       std::move(args), std::move(kwargs));
}

/// tensor ::= '[' (expr (',' expr)* ','?)? ']'
ExprPtr Parser::parseTensorLiteral() {
  Location start = loc();
  consume(); // '['
  std::vector<ExprPtr> elements;
  while (!tok().is(TokenKind::RBracket)) {
    ExprPtr element = parseExpression();
    if (!element)
      return nullptr;
    elements.push_back(std::move(element));
    if (!consumeIf(TokenKind::Comma))
      break;
  }
  if (!consumeIf(TokenKind::RBracket))
    return expected("']' to close the tensor literal");
  return node<TensorLiteralExprAST>(std::move(start),
                                                std::move(elements));
}

/// parenExpr ::= '(' expr ')'
ExprPtr Parser::parseParenExpression() {
  consume(); // '('
  ExprPtr inner = parseExpression();
  if (!inner)
    return nullptr;
  if (!consumeIf(TokenKind::RParen))
    return expected("')' to close the parenthesised expression");
  return inner;
}

/// standaloneExpr ::= separator* expr separator* EOF
ExprPtr Parser::parseStandaloneExpression() {
  skipSeparators();
  ExprPtr e = parseExpression();
  if (!e)
    return nullptr;
  skipSeparators();
  if (!tok().is(TokenKind::Eof))
    return expected("the end of the input after the expression");
  return e;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

std::unique_ptr<ModuleAST>
dlc::frontend::parseModule(llvm::StringRef source, llvm::StringRef filename,
                           const ErrorHandler &onError) {
  return Parser(source, filename, onError).parseModule();
}

std::unique_ptr<ExprAST>
dlc::frontend::parseExpression(llvm::StringRef source, llvm::StringRef filename,
                               const ErrorHandler &onError) {
  return Parser(source, filename, onError).parseStandaloneExpression();
}
