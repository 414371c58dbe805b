// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for DER keys with no PEM armour (detectors/bare_der.cpp): the input's first
// byte picks how the rest reaches the text path. As raw bytes (DER embedded in binary data), as
// the base64 of the rest in a source string wrapped over lines, quoted concatenation or `\n`
// escapes (seed it with DER keys), or with one of the anchors spliced in at a chosen place.
#include "detectors/bare_der.hpp"
#include "encoding.hpp"
#include "text_detect.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace bd = keyward::scanner::detail::bare_der;

std::string as_source(std::string_view payload, std::uint8_t how, std::uint8_t width_byte) {
  constexpr std::array<std::string_view, 4> kJoints{"\n    ", "\" +\n    \"", "\\n", "\r\n"};
  const std::string b64 = keyward::scanner::detail::base64_encode(payload);
  const std::size_t width = 4 + width_byte % 96;
  std::string text = "static final String KEY = \"";
  for (std::size_t i = 0; i < b64.size(); i += width) {
    if (i != 0) text += kJoints[how % kJoints.size()];
    text += b64.substr(i, width);
  }
  return text + "\";\n";
}

std::string spliced(std::string_view payload, std::uint8_t where, std::uint8_t which) {
  std::vector<std::string_view> anchors;
  for (const auto& a : bd::kBase64) anchors.push_back(a.text);
  for (const auto& a : bd::kRaw) anchors.push_back(a.text);
  std::string text(payload);
  const std::size_t at = text.empty() ? 0 : (where * text.size()) / 255;
  text.insert(at, anchors[which % anchors.size()]);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string text;
  switch (data[0] % 3) {
    case 0:
      text = payload;
      break;
    case 1:
      text = as_source(payload, data[0] / 3, data[1]);
      break;
    default:
      text = spliced(payload, data[1], data[0] / 3);
      break;
  }
  std::vector<keyward::scanner::detail::TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  keyward::scanner::detail::detect_text(text, hits, rejected);
  return 0;
}
