// SPDX-License-Identifier: Apache-2.0
// Random ids from the OpenSSL DRBG (RAND_bytes).
// Used by: scan ids, report ids, the collector (agent ids, token ids). Never seeds or falls back
// to a weaker generator: a DRBG failure is an error.
#pragma once

#include <cstddef>
#include <string>

namespace keyward::common {

// n_bytes random bytes as 2*n_bytes lowercase hex digits. Throws std::runtime_error if the DRBG
// fails.
std::string random_hex(std::size_t n_bytes);

}  // namespace keyward::common
