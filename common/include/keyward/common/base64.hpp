// SPDX-License-Identifier: Apache-2.0
// Base64 (RFC 4648 section 4) and base64url (section 5): one encoder, one decoder.
// Used by: scanner detectors (key bodies into SecretBytes) and finding JSON (<field>_b64), rules (baselines, generated
// examples), the collector (token secrets). Never logs what it encodes or decodes.
#pragma once

#include <keyward/common/secret.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::common {

// Standard base64 without line breaks; '=' padding unless `pad` is false.
std::string base64_encode(std::span<const std::uint8_t> data, bool pad = true);
// The same over a string's bytes.
std::string base64_encode(std::string_view data, bool pad = true);
// base64url (RFC 4648 section 5), unpadded unless `pad` (JWK, tokens).
std::string base64url_encode(std::span<const std::uint8_t> data, bool pad = false);
// The same over a string's bytes.
std::string base64url_encode(std::string_view data, bool pad = false);

// Decodes standard base64, skipping ASCII whitespace; padding optional. nullopt on any other
// character, data after padding or an impossible length.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);
// Decodes base64url with the same rules.
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);
// The same into a buffer that wipes itself (the body of a key, however the caller returns):
// on a refusal, what was decoded so far is wiped too.
std::optional<SecretBytes> base64_decode_secret(std::string_view text);
// base64url into a buffer that wipes itself (a JWK's private members).
std::optional<SecretBytes> base64url_decode_secret(std::string_view text);

// True when c is in the standard base64 alphabet (not '=').
constexpr bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace keyward::common
