//===- Lexer.cpp - Tokens and source locations of the dl language ---------===//
//
// Implements the lexer of LANGUAGE.md: `#` comments, identifiers, numbers,
// strings and punctuation. Newlines are significant except inside `(` or `[`
// and after `,`; the lexer tracks open brackets to decide. The first lexical
// error becomes an Error token and ends the stream.
//
//===----------------------------------------------------------------------===//

#include "frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"

#include <cmath>

using namespace dlc::frontend;

llvm::raw_ostream &dlc::frontend::operator<<(llvm::raw_ostream &os,
                                             const Location &loc) {
  return os << (loc.file ? *loc.file : std::string("<unknown>")) << ':'
            << loc.line << ':' << loc.col;
}

llvm::StringRef dlc::frontend::getTokenKindName(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Error:
    return "error";
  case TokenKind::Newline:
    return "newline";
  case TokenKind::Semicolon:
    return ";";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::Number:
    return "number";
  case TokenKind::String:
    return "string";
  case TokenKind::LParen:
    return "(";
  case TokenKind::RParen:
    return ")";
  case TokenKind::LBracket:
    return "[";
  case TokenKind::RBracket:
    return "]";
  case TokenKind::LBrace:
    return "{";
  case TokenKind::RBrace:
    return "}";
  case TokenKind::Comma:
    return ",";
  case TokenKind::Colon:
    return ":";
  case TokenKind::Equal:
    return "=";
  case TokenKind::EqualEqual:
    return "==";
  case TokenKind::NotEqual:
    return "!=";
  case TokenKind::Less:
    return "<";
  case TokenKind::LessEqual:
    return "<=";
  case TokenKind::Greater:
    return ">";
  case TokenKind::GreaterEqual:
    return ">=";
  case TokenKind::Plus:
    return "+";
  case TokenKind::Minus:
    return "-";
  case TokenKind::Star:
    return "*";
  case TokenKind::Slash:
    return "/";
  case TokenKind::StarStar:
    return "**";
  }
  llvm_unreachable("unknown token kind");
}

std::string dlc::frontend::describeToken(const Token &tok) {
  switch (tok.kind) {
  case TokenKind::Eof:
  case TokenKind::Newline:
  case TokenKind::Error:
    return getTokenKindName(tok.kind).str();
  case TokenKind::Identifier:
  case TokenKind::Number:
    return (getTokenKindName(tok.kind) + " '" + tok.spelling + "'").str();
  case TokenKind::String:
    return ("string " + tok.spelling).str();
  default:
    return ("'" + getTokenKindName(tok.kind) + "'").str();
  }
}

Lexer::Lexer(llvm::StringRef source, llvm::StringRef filename)
    : source(source), file(std::make_shared<std::string>(filename.str())),
      cur(source.begin()) {}

llvm::SmallVector<Token, 0> Lexer::tokenize(llvm::StringRef source) {
  Lexer lexer(source, "");
  llvm::SmallVector<Token, 0> tokens;
  do
    tokens.push_back(lexer.lex());
  while (!tokens.back().is(TokenKind::Eof));
  return tokens;
}

void Lexer::advance() {
  if (*cur == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  ++cur;
}

bool Lexer::newlineIsInsignificant() const {
  if (lastKind == TokenKind::Comma)
    return true;
  return !brackets.empty() && brackets.back() != '{';
}

Token Lexer::makeToken(TokenKind kind, const char *start, unsigned tokLine,
                       unsigned tokCol) {
  Token tok;
  tok.kind = kind;
  tok.spelling = llvm::StringRef(start, cur - start);
  tok.line = tokLine;
  tok.col = tokCol;
  lastKind = kind;
  return tok;
}

Token Lexer::makeError(const char *start, unsigned tokLine, unsigned tokCol,
                       std::string message) {
  Token tok = makeToken(TokenKind::Error, start, tokLine, tokCol);
  tok.value = std::move(message);
  stopped = true;
  return tok;
}

Token Lexer::lex() {
  const char *end = source.end();
  while (true) {
    if (stopped || cur == end) {
      Token tok;
      tok.kind = TokenKind::Eof;
      tok.spelling = llvm::StringRef(cur, 0);
      tok.line = line;
      tok.col = col;
      return tok;
    }
    char c = *cur;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      advance();
      continue;
    }
    if (c == '#') {
      while (cur != end && *cur != '\n')
        advance();
      continue;
    }
    const char *start = cur;
    unsigned tokLine = line, tokCol = col;
    if (c == '\n') {
      bool skip = newlineIsInsignificant();
      advance();
      if (skip)
        continue;
      return makeToken(TokenKind::Newline, start, tokLine, tokCol);
    }
    if (llvm::isAlpha(c) || c == '_')
      return lexIdentifier(start, tokLine, tokCol);
    if (llvm::isDigit(c) ||
        (c == '.' && cur + 1 != end && llvm::isDigit(cur[1])))
      return lexNumber(start, tokLine, tokCol);
    if (c == '"')
      return lexString(start, tokLine, tokCol);

    advance();
    auto next = [&](char expected) {
      if (cur != end && *cur == expected) {
        advance();
        return true;
      }
      return false;
    };
    auto close = [&](char open, TokenKind kind) {
      // A mismatched closer leaves the stack alone; the parser reports it.
      if (!brackets.empty() && brackets.back() == open)
        brackets.pop_back();
      return makeToken(kind, start, tokLine, tokCol);
    };
    switch (c) {
    case '(':
    case '[':
    case '{':
      brackets.push_back(c);
      return makeToken(c == '(' ? TokenKind::LParen
                       : c == '[' ? TokenKind::LBracket
                                  : TokenKind::LBrace,
                       start, tokLine, tokCol);
    case ')':
      return close('(', TokenKind::RParen);
    case ']':
      return close('[', TokenKind::RBracket);
    case '}':
      return close('{', TokenKind::RBrace);
    case ';':
      return makeToken(TokenKind::Semicolon, start, tokLine, tokCol);
    case ',':
      return makeToken(TokenKind::Comma, start, tokLine, tokCol);
    case ':':
      return makeToken(TokenKind::Colon, start, tokLine, tokCol);
    case '+':
      return makeToken(TokenKind::Plus, start, tokLine, tokCol);
    case '-':
      return makeToken(TokenKind::Minus, start, tokLine, tokCol);
    case '/':
      return makeToken(TokenKind::Slash, start, tokLine, tokCol);
    case '*':
      return makeToken(next('*') ? TokenKind::StarStar : TokenKind::Star,
                       start, tokLine, tokCol);
    case '=':
      return makeToken(next('=') ? TokenKind::EqualEqual : TokenKind::Equal,
                       start, tokLine, tokCol);
    case '<':
      return makeToken(next('=') ? TokenKind::LessEqual : TokenKind::Less,
                       start, tokLine, tokCol);
    case '>':
      return makeToken(next('=') ? TokenKind::GreaterEqual
                                 : TokenKind::Greater,
                       start, tokLine, tokCol);
    case '!':
      if (next('='))
        return makeToken(TokenKind::NotEqual, start, tokLine, tokCol);
      return makeError(start, tokLine, tokCol,
                       "unexpected character '!', expected '!='");
    default:
      break;
    }
    std::string shown = llvm::isPrint(c)
                            ? std::string(1, c)
                            : "\\x" + llvm::utohexstr(
                                          static_cast<unsigned char>(c),
                                          /*LowerCase=*/true, /*Width=*/2);
    return makeError(start, tokLine, tokCol,
                     "unexpected character '" + shown + "'");
  }
}

Token Lexer::lexIdentifier(const char *start, unsigned tokLine,
                           unsigned tokCol) {
  while (cur != source.end() && (llvm::isAlnum(*cur) || *cur == '_'))
    advance();
  return makeToken(TokenKind::Identifier, start, tokLine, tokCol);
}

/// number ::= digits ('.' digits?)? exponent? | '.' digits exponent?
/// exponent ::= ('e' | 'E') ('+' | '-')? digits
Token Lexer::lexNumber(const char *start, unsigned tokLine, unsigned tokCol) {
  const char *end = source.end();
  auto digits = [&] {
    while (cur != end && llvm::isDigit(*cur))
      advance();
  };
  digits();
  if (cur != end && *cur == '.') {
    advance();
    digits();
  }
  if (cur != end && (*cur == 'e' || *cur == 'E')) {
    advance();
    if (cur != end && (*cur == '+' || *cur == '-'))
      advance();
    if (cur == end || !llvm::isDigit(*cur)) {
      // Point where the digits belong, as for any "expected" error.
      llvm::StringRef text(start, cur - start);
      return makeError(start, tokLine, col,
                       ("expected digits in the exponent of number '" + text +
                        "'")
                           .str());
    }
    digits();
  }
  llvm::StringRef text(start, cur - start);
  // `3x` or `1.5.2` is one malformed number, not a number and a name.
  if (cur != end && (llvm::isAlnum(*cur) || *cur == '_' || *cur == '.')) {
    unsigned badCol = col;
    return makeError(cur, tokLine, badCol,
                     ("unexpected character '" + llvm::Twine(*cur) +
                      "' after number '" + text + "'")
                         .str());
  }
  double value = 0;
  if (text.getAsDouble(value, /*AllowInexact=*/true) || !std::isfinite(value))
    return makeError(start, tokLine, tokCol,
                     ("number '" + text + "' is out of range").str());
  return makeToken(TokenKind::Number, start, tokLine, tokCol);
}

/// string ::= '"' (char | '\\' char)* '"'   (on one line)
Token Lexer::lexString(const char *start, unsigned tokLine, unsigned tokCol) {
  const char *end = source.end();
  advance(); // the opening quote
  std::string value;
  while (cur != end && *cur != '"' && *cur != '\n') {
    char c = *cur;
    // Strings are file paths: a control character (a NUL would cut the
    // path short where the system reads it) is a mistake, not a name.
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
      return makeError(cur, line, col,
                       "a string may not hold control character " +
                           std::to_string(static_cast<unsigned char>(c)));
    advance();
    if (c != '\\' || cur == end || *cur == '\n') {
      value.push_back(c);
      continue;
    }
    char escaped = *cur;
    advance();
    switch (escaped) {
    case 'n':
      value.push_back('\n');
      break;
    case 't':
      value.push_back('\t');
      break;
    default: // `\"`, `\\` and any other character stand for themselves
      value.push_back(escaped);
      break;
    }
  }
  if (cur == end || *cur != '"')
    return makeError(start, tokLine, tokCol,
                     "unterminated string, expected '\"' before the end of "
                     "the line");
  advance(); // the closing quote
  Token tok = makeToken(TokenKind::String, start, tokLine, tokCol);
  tok.value = std::move(value);
  return tok;
}
