// SPDX-License-Identifier: Apache-2.0
// The thread's OpenSSL error queue as one line, for error messages.
// Used by: the agent's TLS client and enrollment, rules' example generator.
// Never adds data of its own: OpenSSL's queue holds library, function and reason codes only.
#pragma once

#include <string>

namespace keyward::common {

// Drains the queue into "error:...; error:..." (ERR_error_string_n of each); "" when it is empty.
std::string drain_openssl_errors();

}  // namespace keyward::common
