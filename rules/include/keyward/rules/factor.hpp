// SPDX-License-Identifier: Apache-2.0
// FactorDef: one risk factor as data (rules/factors.yaml): a stable id, the points it adds
// (negative allowed) and the one line that explains it. `why` may name facts of the finding in
// braces ({mode}, {owner}, {home_user}, {glob}, {count}, {file}, {subject}, {issuer},
// {not_before}, {not_after}, {weaknesses}, {algorithm}, {bits}, {name}, {days}, {format}); the
// engine fills them in.
// Used by: RuleSet (loads and merges), the engine (scores), `keyward rules list`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace keyward::rules {

// One factor definition.
struct FactorDef {
  std::string id;    // kebab-case, stable (e.g. "unencrypted-private-key")
  int points = 0;    // -100..100
  std::string why;   // one line a person reads; may hold {placeholders}
  std::string file;  // where it was (last) defined
  std::uint64_t line = 0;
};

// A factor's `why` with each {name} replaced by vars[name]; unknown names stay as written.
// Used by the engine and by the collector's fleet factors, so both explain alike.
std::string fill_why(std::string_view tmpl, const std::map<std::string, std::string>& vars);

}  // namespace keyward::rules
