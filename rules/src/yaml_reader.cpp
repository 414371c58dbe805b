// SPDX-License-Identifier: Apache-2.0
#include "yaml_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace keyward::rules::detail {

std::uint64_t line_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  const YAML::Mark m = n.Mark();
  return m.line < 0 ? 0 : static_cast<std::uint64_t>(m.line) + 1;
}

YAML::Node load_yaml(std::string_view text, const std::string& file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    const std::uint64_t line = e.mark.line < 0 ? 0 : static_cast<std::uint64_t>(e.mark.line) + 1;
    throw RuleError(file, line, "yaml-syntax", e.msg.empty() ? std::string("not valid YAML") : e.msg);
  }
}

std::string read_text_file(const std::string& path, std::uint64_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw RuleError(path, 0, "cannot-read",
                    std::string("cannot read it (") + std::strerror(err) + "): check the path and its permissions");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max)
    throw RuleError(path, 0, "too-large", "larger than " + std::to_string(max >> 20) + " MiB: is it the right file?");
  return s;
}

void YamlReader::fail(std::uint64_t line, std::string code, std::string message) const {
  throw RuleError(file_, line, std::move(code), std::move(message));
}

void YamlReader::fail(const YAML::Node& at, std::string code, std::string message) const {
  fail(line_of(at), std::move(code), std::move(message));
}

std::map<std::string, Field> YamlReader::fields(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                                                std::string_view what) const {
  if (!map.IsMap()) fail(map, "bad-type", std::string(what) + " must be a mapping (key: value lines)");
  std::map<std::string, Field> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) fail(it->first, "bad-type", std::string(what) + " keys must be plain words");
    const std::string key = it->first.Scalar();
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(it->first, "unknown-field",
           "'" + key + "' is not a field of a " + std::string(what) + " (fields: " + list + ")");
    }
    if (out.count(key) != 0) fail(it->first, "duplicate-field", "'" + key + "' is given twice");
    out.emplace(key, Field{it->first, it->second});
  }
  return out;
}

std::string YamlReader::text_or_empty(const Field& f, std::string_view name) const {
  if (f.value.IsNull()) return {};
  if (!f.value.IsScalar())
    fail(f.key, "bad-type", "'" + std::string(name) + "' must be a single value, not a list or mapping");
  return f.value.Scalar();
}

std::string YamlReader::text(const Field& f, std::string_view name) const {
  std::string s = text_or_empty(f, name);
  if (s.empty()) fail(f.key, "missing-field", "'" + std::string(name) + "' is empty");
  return s;
}

bool YamlReader::boolean(const Field& f, std::string_view name) const {
  const std::string s = f.value.IsScalar() ? f.value.Scalar() : std::string();
  if (s == "true") return true;
  if (s == "false") return false;
  fail(f.key, "bad-type", "'" + std::string(name) + "' must be true or false");
}

long YamlReader::integer(const Field& f, std::string_view name, long lo, long hi, const char* range_code) const {
  const std::string s = f.value.IsScalar() ? f.value.Scalar() : std::string();
  std::size_t used = 0;
  long v = 0;
  bool ok = !s.empty();
  if (ok) {
    try {
      v = std::stol(s, &used, 10);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != s.size()) fail(f.key, "bad-type", "'" + std::string(name) + "' must be a whole number");
  if (v < lo || v > hi)
    fail(f.key, range_code,
         "'" + std::string(name) + "' is " + s + ": it must be between " + std::to_string(lo) + " and " +
             std::to_string(hi));
  return v;
}

std::vector<std::string> YamlReader::texts(const Field& f, std::string_view name) const {
  std::vector<std::string> out;
  if (f.value.IsNull()) return out;
  if (f.value.IsScalar()) {
    out.push_back(f.value.Scalar());
    return out;
  }
  if (!f.value.IsSequence()) fail(f.key, "bad-type", "'" + std::string(name) + "' must be a value or a list of values");
  for (const auto& item : f.value) {
    if (!item.IsScalar() || item.Scalar().empty())
      fail(item.IsDefined() ? item : f.key, "bad-type",
           "each item of '" + std::string(name) + "' must be a non-empty value");
    out.push_back(item.Scalar());
  }
  return out;
}

std::vector<YAML::Node> YamlReader::sequence(const Field& f, std::string_view name) const {
  std::vector<YAML::Node> out;
  if (f.value.IsNull()) return out;
  if (!f.value.IsSequence()) fail(f.key, "bad-type", "'" + std::string(name) + "' must be a list ('- ' items)");
  for (const auto& item : f.value) out.push_back(item);
  return out;
}

}  // namespace keyward::rules::detail
