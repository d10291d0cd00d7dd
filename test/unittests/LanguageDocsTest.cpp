//===- LanguageDocsTest.cpp - LANGUAGE.md against LanguageFacts ----------===//
//
// The docs check: every op, initializer and optimizer of runtime/
// LanguageFacts.h must appear in docs/LANGUAGE.md (as `name(` or `name`),
// and every numeric default printed there for an initializer or optimizer
// (`adam(lr=0.001, ...)`) must equal the table's. DLC_LANGUAGE_MD names the
// file.
//
//===----------------------------------------------------------------------===//

#include "runtime/LanguageFacts.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

using namespace dlc::language;

namespace {

/// The text of LANGUAGE.md.
const std::string &languageDoc() {
  static const std::string text = [] {
    std::ifstream in(DLC_LANGUAGE_MD);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  return text;
}

/// True when the doc mentions `name` as code: `name(` or `name`.
bool mentions(std::string_view name) {
  std::string n(name);
  const std::string &doc = languageDoc();
  return doc.find("`" + n + "(") != std::string::npos ||
         doc.find("`" + n + "`") != std::string::npos;
}

/// The `key=number` pairs of the first `name(...)` in the doc.
std::map<std::string, double> printedDefaults(std::string_view name) {
  std::map<std::string, double> out;
  const std::string &doc = languageDoc();
  size_t open = doc.find("`" + std::string(name) + "(");
  if (open == std::string::npos)
    return out;
  open = doc.find('(', open);
  size_t close = doc.find(')', open);
  std::stringstream args(doc.substr(open + 1, close - open - 1));
  std::string arg;
  while (std::getline(args, arg, ',')) {
    size_t eq = arg.find('=');
    if (eq == std::string::npos)
      continue;
    size_t begin = arg.find_first_not_of(' ');
    std::string key = arg.substr(begin, eq - begin);
    const char *value = arg.c_str() + eq + 1;
    char *end = nullptr;
    double number = std::strtod(value, &end);
    if (end != value)
      out[key] = number;
  }
  return out;
}

/// Checks that `sig` is in the doc and that the defaults printed with it
/// match the table: each printed one, and each of the table's.
void expectDocumented(const Signature &sig, bool checkDefaults) {
  EXPECT_TRUE(mentions(sig.name))
      << "LANGUAGE.md does not mention `" << sig.name << "`";
  if (!checkDefaults)
    return;
  std::map<std::string, double> printed = printedDefaults(sig.name);
  for (const Parameter &p : sig.params) {
    if (!p.defaultValue)
      continue;
    auto it = printed.find(std::string(p.name));
    if (it == printed.end()) {
      ADD_FAILURE() << "LANGUAGE.md does not print the default of '" << p.name
                    << "' of `" << sig.name << "(...)`; the table has "
                    << *p.defaultValue;
      continue;
    }
    EXPECT_DOUBLE_EQ(it->second, *p.defaultValue)
        << "default of '" << p.name << "' of `" << sig.name << "(...)`";
  }
}

} // namespace

TEST(LanguageDocs, EveryOpIsDocumented) {
  ASSERT_FALSE(languageDoc().empty()) << "cannot read " << DLC_LANGUAGE_MD;
  for (const Signature &op : ops())
    expectDocumented(op, /*checkDefaults=*/false);
}

TEST(LanguageDocs, EveryInitializerIsDocumentedWithItsDefaults) {
  ASSERT_FALSE(languageDoc().empty()) << "cannot read " << DLC_LANGUAGE_MD;
  for (const Initializer &init : initializers())
    expectDocumented(init.signature, /*checkDefaults=*/true);
}

TEST(LanguageDocs, EveryOptimizerIsDocumentedWithItsDefaults) {
  ASSERT_FALSE(languageDoc().empty()) << "cannot read " << DLC_LANGUAGE_MD;
  for (const Optimizer &opt : optimizers())
    expectDocumented(opt.signature, /*checkDefaults=*/true);
}

TEST(LanguageDocs, EveryDataSourceIsDocumented) {
  ASSERT_FALSE(languageDoc().empty()) << "cannot read " << DLC_LANGUAGE_MD;
  for (const Signature &source : dataSources())
    expectDocumented(source, /*checkDefaults=*/false);
}

TEST(LanguageDocs, TheCheckSeesAWrongDefault) {
  Signature wrong{"adam", {{"lr", 0.5}}, 0};
  EXPECT_NE(printedDefaults(wrong.name).at("lr"),
            *wrong.params[0].defaultValue);
  EXPECT_FALSE(mentions("rmsprop"));
}
