// SPDX-License-Identifier: Apache-2.0
// Private: escaping text for roff (man(7)) and for shell scripts.
#pragma once

#include <string>
#include <string_view>

namespace keyward::cli_docs::detail {

// Text for a roff text line: backslashes as \e, hyphens as \-, quotes as \(aq and \(ga,
// non-ASCII as \[uXXXX]; a leading '.' or '\'' is guarded with \& so it is never a request.
std::string roff(std::string_view text);

// A macro argument in double quotes ("..." with " as \(dq).
std::string roff_arg(std::string_view text);

// text in single quotes for sh: ' becomes '\''.
std::string sh_quote(std::string_view text);

}  // namespace keyward::cli_docs::detail
