// SPDX-License-Identifier: Apache-2.0
// DER private keys with no PEM armour (docs/scan.md, "Unarmoured and embedded DER keys"): the
// base64 text of a PKCS#8, PKCS#1 or SEC1 key in source or config, and the raw DER of one inside
// a binary file (a SQLite page, a pickle). The prefilter finds the fixed leading bytes of each
// structure (bare_der.hpp); from a hit we go back to where the DER starts, read its length,
// decode exactly that much and let OpenSSL parse it strictly (parse_der). Nothing runs per byte
// outside vectorscan.
// Used by: the detector entries "base64-der-pkcs8", "base64-der-traditional" and "embedded-der"
// (detector_list.cpp). Decoded key bytes live only in SecretBytes.
#include "detectors/bare_der.hpp"

#include "detectors/binary.hpp"
#include "detectors/detector.hpp"
#include "detectors/memo.hpp"
#include "encoding.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace keyward::scanner::detail {
namespace {

constexpr auto npos = std::string_view::npos;
constexpr std::size_t kMaxDer = std::size_t{32} << 10;  // a 16384-bit RSA PKCS#8 key is under 10 KiB
constexpr std::size_t kMaxGap = 256;                    // line break, indentation, quotes between pieces
constexpr std::size_t kMaxSpan = std::size_t{1} << 20;  // from the first base64 character to the last
static_assert(kMaxSpan < kTextLookahead, "text detectors must stay within the window overlap (text_detect.hpp)");

// The extent of a DER SEQUENCE from its first bytes: header length and total length; false when
// `head` does not start one (DER: definite length, at most two length bytes, minimal form).
bool sequence_extent(std::span<const std::uint8_t> head, std::size_t& header, std::size_t& total) {
  if (head.size() < 2 || head[0] != 0x30) return false;
  const std::uint8_t l = head[1];
  if (l < 0x80) {
    header = 2;
    total = 2 + l;
  } else if (l == 0x81 && head.size() >= 3 && head[2] >= 0x80) {
    header = 3;
    total = 3 + head[2];
  } else if (l == 0x82 && head.size() >= 4 && head[2] != 0) {
    header = 4;
    total = 4 + ((std::size_t{head[2]} << 8) | head[3]);
  } else {
    return false;
  }
  return total <= kMaxDer;
}

// OpenSSL's strict parse of exactly one DER key; each finding is reported at `offset` with
// `encoding`, else the candidate is counted under `family`.
void report_der(const TextMatch& m, std::span<const std::uint8_t> der, std::size_t offset, std::size_t end,
                std::string_view encoding, std::string_view family) {
  auto r = parse_der(der, &m.context.memos().certificates);
  if (!r) {
    m.reject(family);
    return;
  }
  for (auto& f : *r) {
    f.encoding = std::string(encoding);
    m.found(std::move(f), offset);
  }
  m.consumed_until = std::max(m.consumed_until, end);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips line breaks, indentation and `\n`-style escapes from `i` (not past `limit`).
std::size_t skip_space(std::string_view d, std::size_t i, std::size_t limit) {
  while (i < limit) {
    if (is_space(d[i])) ++i;
    else if (d[i] == '\\' && i + 1 < limit && (d[i + 1] == 'n' || d[i + 1] == 'r' || d[i + 1] == 't')) i += 2;
    else break;
  }
  return i;
}

// What may separate two pieces of one base64 text at `i`: a line break and indentation (XML,
// YAML, a wrapped file), escapes, or the end of one string literal and the start of the next
// ("..." + "...", "..." "...", '...' . '...'). Where the next piece starts, or npos.
std::size_t skip_gap(std::string_view d, std::size_t i) {
  const std::size_t limit = std::min(d.size(), i + kMaxGap);
  std::size_t j = skip_space(d, i, limit);
  if (j < limit && (d[j] == '"' || d[j] == '\'')) {
    const char quote = d[j];
    j = skip_space(d, j + 1, limit);
    if (j < limit && (d[j] == '+' || d[j] == '.')) j = skip_space(d, j + 1, limit);
    if (j >= limit || d[j] != quote) return npos;
    ++j;
  }
  if (j == i || j >= limit || !is_base64_char(d[j])) return npos;
  return j;
}

// Appends base64 characters from `i` until `out` holds `want`, across gaps (at most kMaxSpan
// from `start`). Where they end, or npos when the text stops first.
std::size_t collect(std::string_view d, std::size_t start, std::size_t i, std::size_t want, SecretBytes& out) {
  d = d.substr(0, std::min(d.size(), start + kMaxSpan));
  while (out.size() < want) {
    if (i < d.size() && is_base64_char(d[i])) {
      out.push_back(static_cast<std::uint8_t>(d[i++]));
      continue;
    }
    if (i >= d.size() || (i = skip_gap(d, i)) == npos) return npos;
  }
  return i;
}

// True when the base64 at `start` is the body of a PEM block (right after its BEGIN line): the
// PEM detector's, found or refused there.
bool follows_armour(std::string_view d, std::size_t start) {
  std::size_t j = start;
  while (j > 0 && start - j < 8 && is_space(d[j - 1])) --j;
  return j >= 5 && d.substr(j - 5, 5) == "-----";
}

// The anchor of `table` at `at`.
template <class Anchor, std::size_t N>
const Anchor* anchor_at(const std::array<Anchor, N>& table, std::string_view d, std::size_t at) {
  for (const auto& a : table)
    if (d.substr(at, a.text.size()) == a.text) return &a;
  return nullptr;
}

}  // namespace

// Base64 of a DER key: the run starts a fixed number of characters before the anchor, right
// after a character that is not base64 (a quote, '>', ':', a line break).
void detect_base64_der(const TextMatch& m) {
  const std::string_view d = m.data;
  const auto* anchor = anchor_at(bare_der::kBase64, d, m.at);
  if (!anchor || anchor->chars_before > m.at) return;
  const std::size_t start = m.at - anchor->chars_before;
  if (!std::all_of(d.begin() + static_cast<std::ptrdiff_t>(start), d.begin() + static_cast<std::ptrdiff_t>(m.at),
                   is_base64_char))
    return;
  if ((start > 0 && is_base64_char(d[start - 1])) || follows_armour(d, start)) return;
  SecretBytes text;  // a key's base64: wiped however we leave
  constexpr std::size_t kHeadChars = 8;
  const std::size_t after_head = collect(d, start, start, kHeadChars, text);
  if (after_head == npos) return;
  const auto head = base64_decode_secret(text.view());
  std::size_t header = 0;
  std::size_t total = 0;
  if (!head || !sequence_extent(head->bytes(), header, total)) return;
  std::size_t end = collect(d, start, after_head, (total * 4 + 2) / 3, text);
  if (end == npos) {
    m.reject("der-base64");  // the text stops before the key does
    return;
  }
  const auto der = base64_decode_secret(text.view());
  if (!der || der->size() != total) {
    m.reject("der-base64");
    return;
  }
  while (end < d.size() && d[end] == '=') ++end;
  report_der(m, der->bytes(), start, end, "base64", "der-base64");
}

// Raw DER inside binary data: the anchor lies a known number of bytes after the SEQUENCE header
// (30 LL, 30 81 LL or 30 82 LL LL). A DER object that is the whole item is the "der" detector's
// (a file, not an embedded key), and so are the anchors inside it.
void detect_embedded_der(const TextMatch& m) {
  const auto* anchor = anchor_at(bare_der::kRaw, m.data, m.at);
  if (anchor == nullptr) return;
  const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(m.data.data()), m.data.size());
  for (const std::size_t header : {std::size_t{2}, std::size_t{3}, std::size_t{4}}) {
    if (header + anchor->after_header > m.at) break;
    const std::size_t start = m.at - anchor->after_header - header;
    std::size_t found_header = 0;
    std::size_t total = 0;
    if (!sequence_extent(bytes.subspan(start, header), found_header, total) || found_header != header ||
        total > bytes.size() - start)
      continue;
    if (start == 0 && total == bytes.size()) {
      m.consumed_until = std::max(m.consumed_until, total);
      return;
    }
    report_der(m, bytes.subspan(start, total), start, start + total, bare_der::kEncodingEmbedded, "der-embedded");
    return;
  }
}

}  // namespace keyward::scanner::detail
