// SPDX-License-Identifier: Apache-2.0
// UTF-8 (RFC 3629): one decoder of a sequence, one strict validity check, one loose check.
// Used by: finding JSON, reporters (JUnit XML), rules (baselines), scanner detectors (comments).
// Never throws; never reads past the string.
#pragma once

#include <cstddef>
#include <string_view>

namespace keyward::common {

// Length (1-4) of the well-formed UTF-8 sequence at s[i], with its code point in cp; 0 when it
// is not one (stray continuation, overlong form, surrogate, above U+10FFFF, truncated).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) noexcept;
// The length alone.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept;

// Well-formed UTF-8 throughout (what nlohmann::json's strict dump accepts).
bool valid_utf8(std::string_view s) noexcept;

// Lead bytes and continuation counts right; overlong forms and surrogates not checked (what
// the findings' JSON may write as is, leaving the rest to the serializer's replacement).
bool loose_utf8(std::string_view s) noexcept;

}  // namespace keyward::common
