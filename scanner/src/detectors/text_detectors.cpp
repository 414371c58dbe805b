// SPDX-License-Identifier: Apache-2.0
// The text parsers of the built-in detector entries (detector_list.cpp): each takes one anchor
// hit, runs the format's parser on the text from there and reports what it found, where its
// block ends, and the family of a block that looked like the format but did not validate.
// Used by: text_detect.cpp, through the registry. Never keeps decoded key bytes.
#include "detectors/detector.hpp"
#include "detectors/memo.hpp"
#include "detectors/parsers.hpp"
#include "detectors/pem.hpp"
#include "encoding.hpp"

#include <algorithm>
#include <utility>

namespace keyward::scanner::detail {
namespace {

constexpr int kMaxDepth = 2;                   // base64-wrapped PEM inside base64-wrapped PEM
constexpr std::size_t kMaxWrapped = 1u << 20;  // a base64 blob larger than this is not a key
constexpr std::size_t kMaxJson = 1u << 20;
static_assert(kMaxJson <= kTextLookbehind && kMaxJson < kTextLookahead && kMaxWrapped < kTextLookahead,
              "text detectors must stay within the window overlap (text_detect.hpp)");

// A parser of the text from the anchor: its object is found at the anchor, and its block ends
// `consumed` bytes later. Errors in `quiet` are not rejections.
void report_parsed(const TextMatch& m, Result<Parsed> r, std::string_view family,
                   std::initializer_list<Errc> quiet = {}) {
  if (!r) {
    if (std::none_of(quiet.begin(), quiet.end(), [&](Errc e) { return r.error() == make_error_code(e); }))
      m.reject(family);
    return;
  }
  m.found(std::move(r->finding), m.at);
  m.consumed_until = m.at + r->consumed;
}

// Finds the JSON object around a "kty" member: back to the unmatched '{', then forward to its
// matching '}' (string-aware). Returns npos bounds when there is none.
std::pair<std::size_t, std::size_t> enclosing_object(std::string_view data, std::size_t at) {
  constexpr auto npos = std::string_view::npos;
  int depth = 0;
  std::size_t open = npos;
  const std::size_t floor = at > kMaxJson ? at - kMaxJson : 0;
  for (std::size_t i = at; i-- > floor;) {
    if (data[i] == '}') ++depth;
    else if (data[i] == '{') {
      if (depth == 0) {
        open = i;
        break;
      }
      --depth;
    }
  }
  if (open == npos) return {npos, npos};
  depth = 0;
  bool in_string = false;
  const std::size_t ceil = std::min(data.size(), open + kMaxJson);
  for (std::size_t i = open; i < ceil; ++i) {
    const char c = data[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return {open, i + 1};
    }
  }
  return {npos, npos};
}

// The end of a run of base64 characters and line breaks from `at`, at most kMaxWrapped long.
std::size_t base64_run_end(std::string_view data, std::size_t at) {
  std::size_t end = at;
  while (end < data.size() && end - at < kMaxWrapped &&
         (is_base64_char(data[end]) || data[end] == '=' || data[end] == '\n' || data[end] == '\r'))
    ++end;
  return end;
}

}  // namespace

// "-----BEGIN ": PEM blocks of every label we know (also OpenSSH and PGP armor).
void detect_pem(const TextMatch& m) {
  auto r = decode_pem(m.data, m.at, &m.context.memos().certificates);
  if (!r) {
    if (r.error() != make_error_code(Errc::unsupported)) {
      // The family of a known label whose body failed: count it.
      const std::size_t p = m.at + 11;
      std::size_t q = p;
      while (q < m.data.size() && q - p < 64 && m.data[q] != '-') ++q;
      m.reject(pem_label_family(m.data.substr(p, q - p)));
    }
    return;
  }
  for (auto& f : r->findings) {
    if (r->escaped) f.encoding = "escaped";
    m.found(std::move(f), m.at);
  }
  m.consumed_until = m.at + r->consumed;
}

// "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----".
void detect_sshcom(const TextMatch& m) { report_parsed(m, parse_sshcom(m.data.substr(m.at)), "sshcom"); }

// "PuTTY-User-Key-File-".
void detect_putty(const TextMatch& m) { report_parsed(m, parse_ppk(m.data.substr(m.at)), "putty"); }

// "<RSAKeyValue>": a public key alone is not a rejection.
void detect_xml_rsa(const TextMatch& m) {
  report_parsed(m, parse_xml_rsa(m.data.substr(m.at)), "xml-rsa", {Errc::not_private});
}

// "\"kty\"": the JSON object around it, which may lie before the anchor.
void detect_jwk(const TextMatch& m) {
  const auto [open, close] = enclosing_object(m.data, m.at);
  if (open == std::string_view::npos) return;
  auto r = parse_jwk(m.data.substr(open, close - open));
  if (!r) {
    if (r.error() != make_error_code(Errc::unsupported) && r.error() != make_error_code(Errc::not_private))
      m.reject("jwk");
    return;
  }
  m.found(std::move(*r), open);
  m.consumed_until = close;
}

// base64("-----BEGIN"): the decoded run is text again, searched with the same detectors.
void detect_base64_pem(const TextMatch& m) {
  if (m.depth >= kMaxDepth) return;
  const std::size_t end = base64_run_end(m.data, m.at);
  auto decoded = base64_decode_secret(m.data.substr(m.at, end - m.at));  // a key's text: wiped however we leave
  if (!decoded) {
    // A wrapped run may stop mid-quantum at a line break that belongs to the text around it.
    std::size_t trimmed = end;
    while (trimmed > m.at && (m.data[trimmed - 1] == '\n' || m.data[trimmed - 1] == '\r')) --trimmed;
    decoded = base64_decode_secret(m.data.substr(m.at, trimmed - m.at));
    if (!decoded) return;
  }
  const std::string_view inner = decoded->view();
  std::vector<TextHit> inner_hits;
  detect_text(m.context, inner, inner_hits, m.rejected, m.depth + 1);
  for (auto& h : inner_hits) {
    h.finding.encoding = "base64";
    m.found(std::move(h.finding), m.at);
  }
  if (!inner_hits.empty()) m.consumed_until = end;
}

}  // namespace keyward::scanner::detail
