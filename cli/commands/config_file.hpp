// SPDX-License-Identifier: Apache-2.0
// Configuration files of `keyward scan`, `keyward ci` and `keyward baseline` (docs/scan.md,
// "Configuration files"): a project's .keyward.yaml (at the repository root, or at the scanned
// directory), the user's $XDG_CONFIG_HOME/keyward/config.yaml (else ~/.config/keyward/config.yaml)
// and the machine's /etc/keyward/config.yaml.
// Keys: exclude and rules (lists: the files' entries add up with the flags'), fail_on and baseline
// (a flag given wins over the project file, which wins over the user file, which wins over the
// machine's). Paths in a file are
// relative to its directory. An unknown key or a bad value is a ConfigError naming file:line.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace keyward::cli {

// The name of the project file, at the repository root or the scanned directory.
inline constexpr const char* kProjectConfigName = ".keyward.yaml";

// A configuration file that cannot be used; what() is "FILE:LINE: message" (LINE 1-based, left
// out when the whole file is at fault).
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The keys of one file (or of the files merged), paths made relative to the current directory.
struct ConfigValues {
  std::vector<std::string> exclude;  // globs, as --exclude
  std::vector<std::string> rules;    // rule directories, as --rules (each must exist)
  std::string fail_on;               // a severity, as --fail-on ("": not set)
  std::string baseline;              // a baseline file, as --baseline ("": not set)
};

// Reads one file: nullopt when it does not exist; throws ConfigError when it cannot be read, is
// not YAML, or holds an unknown key or a bad value.
std::optional<ConfigValues> read_config_file(const std::string& path);

// The directory a scan of these local roots takes .keyward.yaml (and .keywardignore) from: the
// root when it is one directory; "" for several roots or a file.
std::string scanned_directory(const std::vector<std::string>& roots);

// The user file's path: $XDG_CONFIG_HOME/keyward/config.yaml when XDG_CONFIG_HOME is set (and
// absolute), else $HOME/.config/keyward/config.yaml; "" when neither is known.
std::string user_config_path();

// This machine's file, for every user: /etc/keyward/config.yaml (a conffile of the keyward
// package, docs/install.md), or $KEYWARD_SYSTEM_CONFIG when set ("" for none: the tests' choice).
inline constexpr const char* kSystemConfigPath = "/etc/keyward/config.yaml";
std::string system_config_path();

// The system file, the user file and then PROJECT_DIR/.keyward.yaml (PROJECT_DIR "": none)
// merged: lists add up (system first), a key set in a later file wins over an earlier one's.
ConfigValues load_config(const std::string& project_dir);

// A command's side of the files: --no-config, and the options that, when given on the command
// line, win over the files (several when subcommands share the variable: baseline create|update).
struct ConfigFlags {
  bool no_config = false;
  std::vector<const CLI::Option*> fail_on;
  std::vector<const CLI::Option*> baseline;
};

// Registers --no-config.
void add_no_config_flag(CLI::App& cmd, ConfigFlags& flags);

// Where a command keeps what the keys set (nullptr: the command does not take that key).
struct ConfigTargets {
  std::vector<std::string>* exclude = nullptr;
  std::vector<std::string>* rules = nullptr;
  std::string* fail_on = nullptr;
  std::string* baseline = nullptr;
};

// Unless --no-config: loads the files (load_config) and fills the targets: lists get the files'
// entries added, fail_on and baseline are set from the files only when their flag was not given.
void apply_config(const ConfigFlags& flags, const std::string& project_dir, const ConfigTargets& targets);

}  // namespace keyward::cli
