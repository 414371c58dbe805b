// SPDX-License-Identifier: Apache-2.0
// Bytes to lowercase (or uppercase) hex, and SHA-256 digests through OpenSSL's EVP.
// Used by: the scanner (fingerprints, ids), rules, the collector (token hashes, place ids).
// Never logs what it hashes; a digest is the only thing that leaves.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace keyward::common {

// Two hex digits a byte, lowercase unless `upper`.
std::string to_hex(std::span<const std::uint8_t> data, bool upper = false);
// The same over a string's bytes.
std::string to_hex(std::string_view data, bool upper = false);

// Lowercase hex SHA-256 of the bytes (64 digits). Throws std::runtime_error if OpenSSL fails.
std::string sha256_hex(std::span<const std::uint8_t> data);
// The same over a string's bytes.
std::string sha256_hex(std::string_view data);
// Raw SHA-256 of the bytes (32 bytes). Throws std::runtime_error if OpenSSL fails.
std::string sha256_raw(std::span<const std::uint8_t> data);

}  // namespace keyward::common
