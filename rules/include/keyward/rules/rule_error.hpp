// SPDX-License-Identifier: Apache-2.0
// RuleError: a rule, factor, allowlist, ignore or baseline file that cannot be used. Names the
// file, the 1-based line (0 when the whole file is at fault) and a stable kebab-case code.
// Used by: every loader in keyward::rules; the CLI prints what() and exits 2.
// Never quotes secret material (rule files hold none; baseline and allow files hold fingerprints).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace keyward::rules {

// Thrown by the loaders; what() is "file:line: code: message".
struct RuleError : std::runtime_error {
  RuleError(std::string file_, std::uint64_t line_, std::string code_, std::string message_);

  std::string file;     // path as given, or "builtin:<name>" for compiled-in data
  std::uint64_t line;   // 1-based; 0 when no line applies (unreadable file, empty document)
  std::string code;     // stable: yaml-syntax, unknown-field, missing-id, bad-severity, bad-glob, ...
  std::string message;  // what is wrong and what to write instead
};

}  // namespace keyward::rules
