// SPDX-License-Identifier: Apache-2.0
// Private: reading human-edited YAML with errors that name file, line and a stable code.
#pragma once

#include <keyward/rules/rule_error.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules::detail {

// 1-based line of a node; 0 when it has no position (absent nodes).
std::uint64_t line_of(const YAML::Node& n);

// Parses YAML text; throws RuleError "yaml-syntax" at the parser's line.
YAML::Node load_yaml(std::string_view text, const std::string& file);

// Reads the whole of a small file; throws RuleError "cannot-read" (or "too-large" past max).
std::string read_text_file(const std::string& path, std::uint64_t max = 16ull << 20);

// One field of a mapping: its key node (for the line) and its value.
struct Field {
  YAML::Node key;
  YAML::Node value;
};

// Reads one file's nodes with errors that name the file.
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  [[noreturn]] void fail(std::uint64_t line, std::string code, std::string message) const;
  [[noreturn]] void fail(const YAML::Node& at, std::string code, std::string message) const;

  // The fields of a mapping, checked against `allowed` (unknown-field names them) and for
  // duplicates (duplicate-field). `what` names the mapping in messages ("detection rule").
  std::map<std::string, Field> fields(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                                      std::string_view what) const;

  // A non-empty scalar string (bad-type when a list or mapping, missing-field when empty).
  std::string text(const Field& f, std::string_view name) const;
  // A scalar that may be empty.
  std::string text_or_empty(const Field& f, std::string_view name) const;
  // true/false (bad-type otherwise).
  bool boolean(const Field& f, std::string_view name) const;
  // An integer in [lo, hi] (bad-type, or `range_code` when outside).
  long integer(const Field& f, std::string_view name, long lo, long hi, const char* range_code) const;
  // A scalar or a list of scalars.
  std::vector<std::string> texts(const Field& f, std::string_view name) const;
  // A sequence (bad-type otherwise); an empty/null value gives an empty sequence.
  std::vector<YAML::Node> sequence(const Field& f, std::string_view name) const;

 private:
  std::string file_;
};

// Looks a field up; nullptr when absent.
inline const Field* find(const std::map<std::string, Field>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace keyward::rules::detail
