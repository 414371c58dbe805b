// SPDX-License-Identifier: Apache-2.0
#include "commands/config_file.hpp"

#include <keyward/rules/severity.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace keyward::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kKeys[] = {"exclude", "rules", "fail_on", "baseline"};
constexpr std::string_view kKnownKeys = "exclude, rules, fail_on, baseline";  // kKeys, for messages

[[noreturn]] void fail(const std::string& file, const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null()) throw ConfigError(fmt::format("{}: {}", file, message));
  throw ConfigError(fmt::format("{}:{}: {}", file, mark.line + 1, message));
}

// A non-empty string scalar.
std::string scalar(const std::string& file, const std::string& key, const YAML::Node& node) {
  if (!node.IsScalar() || node.Scalar().empty())
    fail(file, node.Mark(), fmt::format("{} must be a non-empty string", key));
  return node.Scalar();
}

// The items of a list of non-empty strings (one string alone is a list of one).
std::vector<YAML::Node> string_items(const std::string& file, const std::string& key, const YAML::Node& node) {
  std::vector<YAML::Node> items;
  if (node.IsScalar()) items.push_back(node);
  else if (node.IsSequence())
    for (const auto& item : node) items.push_back(item);
  else fail(file, node.Mark(), fmt::format("{} must be a list of strings", key));
  for (const auto& item : items) (void)scalar(file, key + " entry", item);
  return items;
}

// A path written in the file, as seen from the current directory: relative to the file's directory.
std::string beside(const std::string& file, const std::string& value) {
  const fs::path p(value);
  if (p.is_absolute()) return value;
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

void read_key(const std::string& file, const YAML::Node& key_node, const YAML::Node& value, ConfigValues& out) {
  const std::string key = key_node.Scalar();
  if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
    fail(file, key_node.Mark(), fmt::format("unknown key '{}' (known keys: {})", key, kKnownKeys));
  if (value.IsNull()) fail(file, key_node.Mark(), key + " has no value");
  if (key == "exclude") {
    for (const auto& glob : string_items(file, key, value)) out.exclude.push_back(glob.Scalar());
  } else if (key == "rules") {
    for (const auto& dir : string_items(file, key, value)) {
      std::error_code ec;
      const std::string path = beside(file, dir.Scalar());
      if (!fs::is_directory(path, ec)) fail(file, dir.Mark(), fmt::format("rules: {} is not a directory", path));
      out.rules.push_back(path);
    }
  } else if (key == "fail_on") {
    out.fail_on = scalar(file, key, value);
    if (!rules::parse_severity(out.fail_on))
      fail(file, value.Mark(),
           fmt::format("fail_on: '{}' is not a severity (critical, high, medium, low, info)", out.fail_on));
  } else {  // baseline
    out.baseline = beside(file, scalar(file, key, value));
  }
}

ConfigValues parse_config(const std::string& file, const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(file, e.mark, "not valid YAML: " + e.msg);
  }
  ConfigValues out;
  if (root.IsNull()) return out;  // an empty file
  if (!root.IsMap()) fail(file, root.Mark(), fmt::format("expected a mapping of keys ({})", kKnownKeys));
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) fail(file, entry.first.Mark(), "a key must be a plain name");
    read_key(file, entry.first, entry.second, out);
  }
  return out;
}

void append_new(std::vector<std::string>& to, const std::vector<std::string>& more) {
  for (const auto& m : more)
    if (std::find(to.begin(), to.end(), m) == to.end()) to.push_back(m);
}

bool given(const std::vector<const CLI::Option*>& options) {
  return std::any_of(options.begin(), options.end(), [](const CLI::Option* o) { return o->count() != 0; });
}

}  // namespace

std::optional<ConfigValues> read_config_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;  // a missing file is no configuration
  if (fs::is_directory(path, ec)) throw ConfigError(path + ": is a directory, not a configuration file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(path, text.str());
}

std::string scanned_directory(const std::vector<std::string>& roots) {
  std::error_code ec;
  return roots.size() == 1 && fs::is_directory(roots.front(), ec) ? roots.front() : std::string();
}

std::string user_config_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/keyward/config.yaml";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.config/keyward/config.yaml";
  return {};
}

std::string system_config_path() {
  if (const char* path = std::getenv("KEYWARD_SYSTEM_CONFIG")) return path;
  return kSystemConfigPath;
}

ConfigValues load_config(const std::string& project_dir) {
  ConfigValues merged;
  std::optional<ConfigValues> system, user, project;
  if (const std::string path = system_config_path(); !path.empty()) system = read_config_file(path);
  if (const std::string path = user_config_path(); !path.empty()) user = read_config_file(path);
  if (!project_dir.empty()) project = read_config_file((fs::path(project_dir) / kProjectConfigName).string());
  for (const auto* file : {&system, &user, &project}) {  // the project file last: its settings win
    if (!*file) continue;
    append_new(merged.exclude, (*file)->exclude);
    append_new(merged.rules, (*file)->rules);
    if (!(*file)->fail_on.empty()) merged.fail_on = (*file)->fail_on;
    if (!(*file)->baseline.empty()) merged.baseline = (*file)->baseline;
  }
  return merged;
}

void add_no_config_flag(CLI::App& cmd, ConfigFlags& flags) {
  cmd.add_flag(
      "--no-config", flags.no_config,
      "Read no configuration file: not .keyward.yaml, ~/.config/keyward/config.yaml nor /etc/keyward/config.yaml");
}

void apply_config(const ConfigFlags& flags, const std::string& project_dir, const ConfigTargets& targets) {
  if (flags.no_config) return;
  const ConfigValues values = load_config(project_dir);
  if (targets.exclude != nullptr) append_new(*targets.exclude, values.exclude);
  if (targets.rules != nullptr) append_new(*targets.rules, values.rules);
  if (targets.fail_on != nullptr && !values.fail_on.empty() && !given(flags.fail_on)) *targets.fail_on = values.fail_on;
  if (targets.baseline != nullptr && !values.baseline.empty() && !given(flags.baseline))
    *targets.baseline = values.baseline;
}

}  // namespace keyward::cli
