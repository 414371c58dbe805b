// SPDX-License-Identifier: Apache-2.0
// A detector that fails: it throws on the text `KEYWARD-FAULT-BAD-ALLOC` (std::bad_alloc) or
// `KEYWARD-FAULT-RUNTIME` (std::runtime_error), as a parser bug or an exhausted allocator would.
// Registered beside the built-in list, it shows that one failing file is one counted error and
// that the scan (and the agent around it) goes on: docs/architecture.md, "Errors" 2.
#pragma once

#include "detectors/detector.hpp"

#include <new>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace keyward::test {

inline constexpr std::string_view kFaultAnchor = "KEYWARD-FAULT-";

inline void detect_fault(const scanner::detail::TextMatch& m) {
  if (m.data.substr(m.at + kFaultAnchor.size()).starts_with("BAD-ALLOC")) throw std::bad_alloc();
  throw std::runtime_error("a detector failed while parsing");
}

inline constexpr scanner::detail::Detector kFaultyDetector{
    .name = "keyward-fault",
    .anchors = {kFaultAnchor},
    .text = detect_fault,
    .rules = {"private-key/keyward-fault"},
    .fuzzer = "text_detect_fuzzer",
};

// The built-in detectors and the faulty one.
inline std::vector<scanner::detail::Detector> with_faulty_detector() {
  const auto builtin = scanner::detail::builtin_detectors();
  std::vector<scanner::detail::Detector> list(builtin.begin(), builtin.end());
  list.push_back(kFaultyDetector);
  return list;
}

}  // namespace keyward::test
