// SPDX-License-Identifier: Apache-2.0
// A compact binary form of findings for the scan cache: what a rescan reads back for every
// unchanged file that holds findings. Reading the JSON form back cost 12 us a finding (building
// the JSON tree); this costs well under one. Every field of Finding is written, internal ones
// included, in the one order walk() gives for both directions. Lengths and counts read are
// checked against what is left and elements are added only as they decode, so damaged input
// gives an error, never an allocation made from a count (tests/fuzz/scan_cache_fuzzer.cpp). Not a wire format: a cache
// belongs to one build of keyward. Hand-written rather than cereal or msgpack: cereal trusts sizes it reads, and
// msgpack goes through the same JSON tree.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// Appends one finding's encoding to `out`.
void encode_finding(const Finding& f, std::string& out);
// Decodes one finding from the front of `in` and drops what it read; false when `in` does not
// start with a whole, valid encoding (then `in` and `f` are unspecified).
bool decode_finding(std::string_view& in, Finding& f);

// Varint-based helpers for the rest of a cache record.
void put_uint(std::string& out, std::uint64_t v);
bool get_uint(std::string_view& in, std::uint64_t& v);
void put_string(std::string& out, std::string_view s);
bool get_string(std::string_view& in, std::string& s);

}  // namespace keyward::scanner::detail
