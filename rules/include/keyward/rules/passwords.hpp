// SPDX-License-Identifier: Apache-2.0
// The common-password list keyward tries on key stores: the built-in one (rules/data/
// common-passwords.txt, compiled in) and user files. Used by: the CLI and the agent, which hand
// the list to the scanner in ScanOptions. Never logs or prints a password; every password, and
// the bytes of a file that held them, live in common::SecretBytes and are wiped when dropped.
#pragma once

#include <keyward/common/secret.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keyward::rules {

// The built-in list, in file order (without the empty password, which is always tried).
std::vector<common::SecretBytes> builtin_passwords();

// Parses a password list: one per line, '#' comments and blank lines ignored, CR stripped.
std::vector<common::SecretBytes> parse_passwords(std::string_view text);

// Reads a password file; throws std::runtime_error naming the file when it cannot be read.
std::vector<common::SecretBytes> load_passwords(const std::string& path);

}  // namespace keyward::rules
