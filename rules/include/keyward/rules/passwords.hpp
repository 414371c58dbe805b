// The common-password list keyward tries on key stores: the built-in one (rules/data/
// common-passwords.txt, compiled in) and user files. Used by: the CLI and the agent, which hand
// the list to the scanner in ScanOptions. Never logs or prints a password.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

// The built-in list, in file order (without the empty password, which is always tried).
std::vector<std::string> builtin_passwords();

// Parses a password list: one per line, '#' comments and blank lines ignored, CR stripped.
std::vector<std::string> parse_passwords(std::string_view text);

// Reads a password file; throws std::runtime_error naming the file when it cannot be read.
std::vector<std::string> load_passwords(const std::string& path);

}  // namespace keyward::rules
