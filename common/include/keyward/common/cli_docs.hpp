// SPDX-License-Identifier: Apache-2.0
// keyward::cli_docs: man pages and shell completion scripts generated from a CLI::App tree, the
// same source as --help, so they cannot drift (CONTRIBUTING.md, "Man pages and completion").
// A separate library from keyward::common, which links no CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keyward::cli_docs {

// One entry of a tagged list: an exit code and its meaning, a file and what it holds.
struct Item {
  std::string term;
  std::string text;
};

// How a section's items read.
enum class Layout {
  tagged,   // term, then its text indented below (man) or beside it (help)
  commands  // command lines with an optional comment, shown as they are typed
};

// A hand-written section of a man page (EXIT STATUS, FILES, ENVIRONMENT, EXAMPLES, SEE ALSO).
// Text is paragraphs separated by blank lines; lines that start with two spaces are kept as they
// are (no filling), like the help footers.
struct Section {
  std::string title;    // the man page's heading, e.g. "EXIT STATUS"
  std::string heading;  // the first line in a help footer, e.g. "Exit status:"; empty: none
  std::string text;     // before the items
  std::vector<Item> items;
  std::string after;  // after the items
  Layout layout = Layout::tagged;
};

// What a binary says about itself beyond its options; lives next to its main.
struct Manual {
  int section = 1;                // 1 user commands, 8 system administration
  std::string description;        // DESCRIPTION
  std::vector<Section> sections;  // after COMMANDS and GLOBAL OPTIONS, in order
};

// The roff man page of app (name, sections and version in .TH). Hidden options and commands
// (empty group) are left out, as in --help.
std::string man_page(const CLI::App& app, const Manual& manual, std::string_view version);

// Completion scripts for bash (complete -F _NAME NAME) and zsh (#compdef NAME).
std::string bash_completion(const CLI::App& app);
std::string zsh_completion(const CLI::App& app);

// The sections whose title is in titles, as plain text for a --help footer, then tail.
std::string help_footer(const Manual& manual, std::initializer_list<std::string_view> titles, std::string_view tail);

// The conventions of the three binaries (CONTRIBUTING.md, "Man pages and completion"): the name
// `name` (also in Usage lines, instead of argv[0]), -V,--version printing
// "<name> <version>", parse errors as "<name>: <message>" with the --help hint, a visible
// `completion bash|zsh` command and a hidden --generate-man flag. Both print to stdout and end
// the parse with CLI::Success (exit 0), so a main's dispatch needs no change; they describe the
// app as it is when parsed. manual must outlive the parse.
void add_standard_commands(CLI::App& app, const std::string& name, const Manual& manual, std::string_view version);

}  // namespace keyward::cli_docs
