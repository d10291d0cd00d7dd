//===- Parser.h - Recursive-descent parser of the dl language ---*- C++ -*-===//
//
// Entry points that turn dl source text into an AST. The parser checks syntax
// only; names, types and shapes are MLIRGen's business. It stops at the first
// syntax error, reports it through an ErrorHandler and returns null. The
// grammar is written above each parseX function in Parser.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_PARSER_H
#define DLC_FRONTEND_PARSER_H

#include "frontend/AST.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <functional>
#include <memory>

namespace dlc::frontend {

/// Receives a syntax error: where it is and the message, in MLIR style
/// (lowercase start, no final period, what was expected and what was found).
using ErrorHandler = std::function<void(const Location &, const llvm::Twine &)>;

/// Parses a whole model file. Reports the first syntax error through onError
/// (e.g. "expected ')' to close the call to 'conv2d', found newline") and
/// returns nullptr.
std::unique_ptr<ModuleAST> parseModule(llvm::StringRef source,
                                       llvm::StringRef filename,
                                       const ErrorHandler &onError);

/// Parses text that holds exactly one expression (surrounding blank lines and
/// comments allowed), e.g. the value of `dlc run --feed W=[-1]`. Reports the
/// first syntax error through onError and returns nullptr.
std::unique_ptr<ExprAST> parseExpression(llvm::StringRef source,
                                         llvm::StringRef filename,
                                         const ErrorHandler &onError);

} // namespace dlc::frontend

#endif // DLC_FRONTEND_PARSER_H
