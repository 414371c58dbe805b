// SPDX-License-Identifier: Apache-2.0
// Private: a CLI::App tree read into plain structs, what the man page and the completion scripts
// are written from (CONTRIBUTING.md, "Man pages and completion").
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace keyward::cli_docs::detail {

// What an option's value is, for completion.
enum class ValueKind { none, file, directory, other };

struct OptionDoc {
  std::vector<std::string> names;  // "-f", "--format"; a positional's name
  bool positional = false;
  bool flag = false;  // takes no value
  bool required = false;
  bool repeatable = false;
  bool help = false;  // -h,--help
  std::string type;   // the type name without validators ("FILE", "TEXT")
  std::string description;
  std::string default_value;
  std::string envname;
  std::vector<std::string> choices;  // CLI::IsMember's values
  ValueKind value = ValueKind::none;
};

struct CommandDoc {
  std::string name;  // "create"
  std::string path;  // "keyward-collector token create"
  std::string description;
  std::string footer;
  bool needs_subcommand = false;
  std::vector<OptionDoc> options;  // in declaration order, positionals included
  std::vector<CommandDoc> commands;
};

// The visible part of app: options and subcommands whose group is not empty.
CommandDoc describe(const CLI::App& app);

// Every command of the tree, depth first, the root first.
std::vector<const CommandDoc*> flatten(const CommandDoc& root);

// How an option is written in a synopsis: "--config FILE", "[--once]", "PATH...".
std::string usage_word(const OptionDoc& o);

}  // namespace keyward::cli_docs::detail
