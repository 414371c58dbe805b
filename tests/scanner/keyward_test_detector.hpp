// SPDX-License-Identifier: Apache-2.0
// A made-up format that exists only in tests: the proof that a detector registry entry is all a
// new format needs (tests/scanner/detector_registry_test.cpp adds it to a registry with one line).
// Text: a "-----BEGIN KEYWARD TEST KEY-----" ... "-----END KEYWARD TEST KEY-----" block.
// Binary: a file that starts with the magic "KWTESTK\x01".
// Holds no key material: the findings it makes carry only a made-up algorithm name.
#pragma once

#include "detectors/detector.hpp"

#include <cstring>
#include <string_view>

namespace keyward::test {

namespace sd = keyward::scanner::detail;

inline constexpr std::string_view kTestKeyBegin = "-----BEGIN KEYWARD TEST KEY-----";
inline constexpr std::string_view kTestKeyEnd = "-----END KEYWARD TEST KEY-----";
inline constexpr std::string_view kTestKeyMagic{"KWTESTK\x01", 8};
inline constexpr std::string_view kTestKeyRule = "private-key/keyward-test";

// A finding of the test format.
inline scanner::Finding keyward_test_finding(scanner::Format format) {
  scanner::Finding f;
  f.kind = scanner::Kind::private_key;
  f.format = format;
  f.rule = std::string(kTestKeyRule);
  f.key.emplace();
  f.key->algorithm = "keyward-test";
  return f;
}

// The text parser: a block with its END line is a finding; a BEGIN line without one is rejected.
inline void detect_keyward_test_text(const sd::TextMatch& m) {
  const std::size_t end = m.data.find(kTestKeyEnd, m.at);
  if (end == std::string_view::npos) {
    m.reject("keyward-test");
    return;
  }
  m.found(keyward_test_finding(scanner::Format::pem_pkcs8), m.at);
  m.consumed_until = end + kTestKeyEnd.size();
}

// The head predicate: the magic at offset 0.
inline bool head_keyward_test(std::span<const std::uint8_t> head, std::uint64_t) {
  return head.size() >= kTestKeyMagic.size() &&
         std::memcmp(head.data(), kTestKeyMagic.data(), kTestKeyMagic.size()) == 0;
}

// The binary parser: any item with the magic is one finding.
inline bool detect_keyward_test_binary(sd::BinaryItem& item) {
  scanner::Finding f = keyward_test_finding(scanner::Format::der_pkcs8);
  f.identity = "keyward-test:" + std::to_string(item.data.size());
  item.found.push_back(std::move(f));
  return true;
}

// The entry.
inline constexpr sd::Detector kKeywardTestDetector{
    .name = "keyward-test",
    .anchors = {kTestKeyBegin},
    .text = detect_keyward_test_text,
    .head = head_keyward_test,
    .binary = detect_keyward_test_binary,
    .rules = {kTestKeyRule},
    .fuzzer = "text_detect_fuzzer",
};

}  // namespace keyward::test
