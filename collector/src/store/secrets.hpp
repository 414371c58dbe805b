// SPDX-License-Identifier: Apache-2.0
// Random ids and token secrets from the OpenSSL DRBG, and SHA-256 hex digests.
// Used by: sql_store.cpp (tokens, ids, place ids), audit_chain.cpp.
// Never logs or returns anything but what was asked: a secret leaves only to its caller.
#pragma once

#include <keyward/common/hex.hpp>
#include <keyward/common/random.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace keyward::collector::detail {

// Lowercase hex SHA-256 of the bytes, and n random bytes as 2n lowercase hex digits (both throw
// std::runtime_error if OpenSSL fails): keyward::common's, under the names the store calls.
using common::random_hex;
using common::sha256_hex;
// prefix + base64url (no padding) of 32 random bytes: 43 characters.
std::string new_secret(std::string_view prefix);

}  // namespace keyward::collector::detail
