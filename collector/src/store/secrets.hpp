// Random ids and token secrets from the OpenSSL DRBG, and SHA-256 hex digests.
// Used by: sqlite_store.cpp (tokens, ids, place ids), audit_chain.cpp.
// Never logs or returns anything but what was asked: a secret leaves only to its caller.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace keyward::collector::detail {

// Lowercase hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view data);
// n random bytes as 2n lowercase hex digits. Throws StoreError if the DRBG fails.
std::string random_hex(std::size_t n);
// prefix + base64url (no padding) of 32 random bytes: 43 characters.
std::string new_secret(std::string_view prefix);

}  // namespace keyward::collector::detail
