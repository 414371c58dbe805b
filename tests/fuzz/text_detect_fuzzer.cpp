// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the whole text path: anchors, the PEM normaliser (escapes, quotes,
// concatenation), base64-wrapped PEM and every text detector behind them.
#include "text_detect.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<keyward::scanner::detail::TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  keyward::scanner::detail::detect_text(std::string_view(reinterpret_cast<const char*>(data), size), hits, rejected);
  return 0;
}
