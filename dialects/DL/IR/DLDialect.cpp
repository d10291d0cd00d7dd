//===- DLDialect.cpp - dl dialect registration, attribute checks ----------===//
//
// Registers the dl ops, lets constants materialize during folding and
// verifies the dialect's function argument and result attributes (the names
// of runtime/Contracts.h), so that a misspelt or mistyped one is an error at
// its function rather than a silent miss in a later pass or the runtime.
//
//===----------------------------------------------------------------------===//

#include "dialects/DL/IR/DLOps.h"
#include "runtime/Contracts.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::dl;
namespace contract = ::dlc::contract;

#include "dialects/DL/IR/DLOpsDialect.cpp.inc"
#include "dialects/DL/IR/DLOpsEnums.cpp.inc"
#include "dialects/DL/IR/DLInterfaces.cpp.inc"

void DLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/DL/IR/DLOps.cpp.inc"
      >();
}

Operation *DLDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

//===----------------------------------------------------------------------===//
// Attribute verification
//===----------------------------------------------------------------------===//

namespace {
/// Starts an error about attribute `name` of argument or result `index`.
InFlightDiagnostic attrError(Operation *op, StringRef what, unsigned index,
                             StringRef name) {
  return op->emitOpError() << what << " " << index << ": '" << name << "' ";
}

/// Checks that `dl.input`/`dl.param` names a declaration of kind `Decl` in
/// the enclosing module whose type is the argument's.
template <class Decl>
LogicalResult verifyDeclRef(Operation *op, unsigned argIndex,
                            NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue());
  if (!ref)
    return attrError(op, "argument", argIndex, name)
           << "expects a flat symbol reference, got " << attr.getValue();
  Operation *symbol = SymbolTable::lookupNearestSymbolFrom(op, ref);
  auto decl = dyn_cast_or_null<Decl>(symbol);
  if (!decl) {
    InFlightDiagnostic diag = attrError(op, "argument", argIndex, name)
                              << "expects a " << Decl::getOperationName()
                              << " declaration, got " << ref;
    if (symbol)
      diag << " naming a '" << symbol->getName() << "'";
    else
      diag << ", which the module does not declare";
    return diag;
  }
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function || argIndex >= function.getNumArguments())
    return success();
  Type argType = function.getArgumentTypes()[argIndex];
  if (argType != decl.getType())
    return attrError(op, "argument", argIndex, name)
           << "expects the type of " << ref << ", " << decl.getType()
           << ", got " << argType;
  return success();
}

/// Reports attribute `name` of argument or result `index`, none of `known`.
LogicalResult unknownAttr(Operation *op, StringRef what, unsigned index,
                          StringRef name, ArrayRef<StringRef> known) {
  InFlightDiagnostic diag = op->emitOpError() << what << " " << index
                                              << " has unknown attribute '"
                                              << name << "'; expected ";
  for (auto [i, k] : llvm::enumerate(known))
    diag << (i == 0 ? "" : i + 1 == known.size() ? " or " : ", ") << k;
  return diag;
}

/// Checks that `attr` holds a string.
LogicalResult verifyString(Operation *op, StringRef what, unsigned index,
                           NamedAttribute attr) {
  if (isa<StringAttr>(attr.getValue()))
    return success();
  return attrError(op, what, index, attr.getName().getValue())
         << "expects a string, got " << attr.getValue();
}
} // namespace

LogicalResult DLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  if (attr.getName().getValue() == contract::kDeviceAttr) {
    auto device = dyn_cast<StringAttr>(attr.getValue());
    StringRef text = device ? device.getValue() : "";
    unsigned ordinal = 0;
    if (text == "cpu" ||
        (text.consume_front("cuda:") && !text.empty() && !text.getAsInteger(10, ordinal)))
      return success();
    return op->emitOpError() << "has a '" << contract::kDeviceAttr
                             << "' that is not \"cpu\" or \"cuda:N\": " << attr.getValue();
  }
  return op->emitOpError() << "has unknown attribute '"
                           << attr.getName().getValue()
                           << "'; the dl dialect defines function argument and "
                              "result attributes and '"
                           << contract::kDeviceAttr << "'";
}

LogicalResult DLDialect::verifyRegionArgAttribute(Operation *op,
                                                  unsigned regionIndex,
                                                  unsigned argIndex,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == contract::kInputAttr)
    return verifyDeclRef<InputOp>(op, argIndex, attr);
  if (name == contract::kParamAttr)
    return verifyDeclRef<ParamOp>(op, argIndex, attr);
  if (name == contract::kStateAttr || name == contract::kGradAttr)
    return verifyString(op, "argument", argIndex, attr);
  if (name == contract::kStepAttr || name == contract::kSeedAttr ||
      name == contract::kBatchOffsetAttr) {
    if (isa<UnitAttr>(attr.getValue()))
      return success();
    return attrError(op, "argument", argIndex, name)
           << "expects a unit attribute, got " << attr.getValue();
  }
  return unknownAttr(op, "argument", argIndex, name,
                     {contract::kInputAttr, contract::kParamAttr,
                      contract::kStateAttr, contract::kStepAttr,
                      contract::kSeedAttr, contract::kGradAttr,
                      contract::kBatchOffsetAttr});
}

LogicalResult DLDialect::verifyRegionResultAttribute(Operation *op,
                                                     unsigned regionIndex,
                                                     unsigned resultIndex,
                                                     NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == contract::kNameAttr)
    return verifyString(op, "result", resultIndex, attr);
  if (name != contract::kRoleAttr)
    return unknownAttr(op, "result", resultIndex, name,
                       {contract::kRoleAttr, contract::kNameAttr});
  if (failed(verifyString(op, "result", resultIndex, attr)))
    return failure();
  StringRef role = cast<StringAttr>(attr.getValue()).getValue();
  if (llvm::is_contained(contract::kResultRoles, role))
    return success();
  InFlightDiagnostic diag = attrError(op, "result", resultIndex, name)
                            << "expects one of ";
  llvm::interleaveComma(contract::kResultRoles, diag);
  return diag << ", got \"" << role << "\"";
}
