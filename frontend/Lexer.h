//===- Lexer.h - Tokens and source locations of the dl language -*- C++ -*-===//
//
// The lexer turns a model file (`*.dl`) into tokens, each with the 1-based
// line and column where it starts. It knows which newlines end a statement:
// newlines inside `(` or `[`, and after `,`, are dropped, as in Python, while
// every other newline becomes a Newline token. Keywords are not tokens of
// their own; the parser recognises them by spelling at the start of a
// statement.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_LEXER_H
#define DLC_FRONTEND_LEXER_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace dlc::frontend {

/// A position in a source file. Line and column are 1-based and count bytes;
/// 0 means unknown. The file name is shared by every location of one file.
struct Location {
  /// The file name, as given to the lexer.
  std::shared_ptr<std::string> file;
  /// 1-based line and column (in bytes); 0 if unknown.
  unsigned line = 0;
  unsigned col = 0;
};

/// Prints `file:line:col`.
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const Location &loc);

/// The kinds of token.
enum class TokenKind {
  Eof,        ///< end of the input
  Error,      ///< a lexical error; Token::value holds the message
  Newline,    ///< a newline that ends a statement or block entry
  Semicolon,  ///< `;`
  Identifier, ///< `[A-Za-z_][A-Za-z0-9_]*`
  Number,     ///< `3`, `3.0`, `1e-4`, `.5`
  String,     ///< `"..."`; Token::value holds the unescaped contents
  LParen,     ///< `(`
  RParen,     ///< `)`
  LBracket,   ///< `[`
  RBracket,   ///< `]`
  LBrace,     ///< `{`
  RBrace,     ///< `}`
  Comma,      ///< `,`
  Colon,      ///< `:`
  Equal,      ///< `=`
  EqualEqual, ///< `==`
  NotEqual,   ///< `!=`
  Less,       ///< `<`
  LessEqual,  ///< `<=`
  Greater,    ///< `>`
  GreaterEqual, ///< `>=`
  Plus,       ///< `+`
  Minus,      ///< `-`
  Star,       ///< `*`
  Slash,      ///< `/`
  StarStar,   ///< `**`
};

/// One token: its kind, its text in the source and where it starts.
struct Token {
  TokenKind kind = TokenKind::Eof;
  /// The token's text, pointing into the source buffer (empty for Eof).
  llvm::StringRef spelling;
  /// Where the token starts (1-based).
  unsigned line = 0;
  unsigned col = 0;
  /// For String, the contents without quotes and with escapes resolved; for
  /// Error, the diagnostic message. Empty otherwise.
  std::string value;

  /// True if the token is of kind `k`.
  bool is(TokenKind k) const { return kind == k; }
  /// True for an identifier spelled exactly `name`.
  bool isIdentifier(llvm::StringRef name) const {
    return kind == TokenKind::Identifier && spelling == name;
  }
};

/// Returns how a diagnostic names the token, e.g. "newline", "end of file",
/// "identifier 'x'", "number '3'", "')'".
std::string describeToken(const Token &tok);

/// Returns the fixed spelling of a punctuation token kind ("(", "**", ...) or a
/// word for the others ("identifier", "number", ...).
llvm::StringRef getTokenKindName(TokenKind kind);

/// Splits a source buffer into tokens, one at a time. The buffer must outlive
/// the lexer and its tokens. After an Error token, lex() returns Eof.
class Lexer {
public:
  /// Lexes `source`; locations name `filename`.
  Lexer(llvm::StringRef source, llvm::StringRef filename);

  /// Returns the next token.
  Token lex();

  /// Lexes the whole buffer. The result ends with an Eof token, right after
  /// the first Error token if there is one.
  static llvm::SmallVector<Token, 0> tokenize(llvm::StringRef source);

  /// The file name shared by all locations of this buffer.
  const std::shared_ptr<std::string> &getFile() const { return file; }

  /// Returns the location of a token of this buffer.
  Location getLocation(const Token &tok) const { return {file, tok.line, tok.col}; }

private:
  /// Makes a token from `start` to the current position.
  Token makeToken(TokenKind kind, const char *start, unsigned line,
                  unsigned col);
  /// Makes an Error token at (line, col) and stops the lexer.
  Token makeError(const char *start, unsigned line, unsigned col,
                  std::string message);
  /// Lexes the number, string or identifier that starts at `start`.
  Token lexNumber(const char *start, unsigned line, unsigned col);
  Token lexString(const char *start, unsigned line, unsigned col);
  Token lexIdentifier(const char *start, unsigned line, unsigned col);
  /// Advances past one character, keeping line and column up to date.
  void advance();
  /// True if a newline at the current position continues the statement.
  bool newlineIsInsignificant() const;

  /// The whole buffer and its file name.
  llvm::StringRef source;
  std::shared_ptr<std::string> file;
  /// The next character to read, and its line and column.
  const char *cur;
  unsigned line = 1;
  unsigned col = 1;
  /// Open brackets, innermost last: one of '(', '[', '{'.
  llvm::SmallVector<char, 8> brackets;
  /// The kind of the last token returned.
  TokenKind lastKind = TokenKind::Newline;
  /// Set after an Error token; from then on lex() returns Eof.
  bool stopped = false;
};

} // namespace dlc::frontend

#endif // DLC_FRONTEND_LEXER_H
