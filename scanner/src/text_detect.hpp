// SPDX-License-Identifier: Apache-2.0
// Text detection over a whole buffer: the registry's prefilter finds anchors, each anchor's
// detector (its entry's text parser, detectors/detector.hpp) validates the block, and hits come
// back in order with their byte offsets.
// Used by: item_scan.cpp (whole items), file_scan.cpp (large files, window by window) and,
// recursively, the base64-wrapped PEM detector. Never keeps decoded key bytes.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

class DetectContext;  // detectors/detector.hpp

// How far a text detector may read around its anchor; text_detect.cpp hands each detector a
// view cut at anchor + kTextLookahead, so no block it accepts is longer. PEM's block limit is
// the largest (pem.cpp kMaxBlock, 4 MiB of body, plus a BEGIN line of at most 81 bytes); JWK
// (1 MiB), base64-wrapped PEM (1 MiB) and XML (64 KiB) stay below; SSH.com, PuTTY and PGP armor
// have no byte limit of their own and get this one. A JWK's '{' may lie up to kMaxJson (1 MiB)
// before its "kty" anchor. Windows that overlap by both (file_scan.hpp) see every block exactly
// as a whole read does (issue 5).
inline constexpr std::size_t kTextLookahead = (std::size_t{4} << 20) + 4096;
inline constexpr std::size_t kTextLookbehind = std::size_t{1} << 20;

// One validated object found in a buffer.
struct TextHit {
  Finding finding;         // kind, format, rule, key/certificate, identity, encoding
  std::size_t offset = 0;  // where its block starts in the buffer (in the file, once placed)
  std::uint64_t line = 0;  // 1-based line of `offset` in the file; set by whoever knows the file
};

// Finds every text-encoded key, certificate and public key in `data` with the detectors of
// `context`. Candidate blocks that look like a known format but do not validate are counted in
// `rejected` by family. `depth` is how deep inside base64-wrapped text `data` is (0 at the top).
void detect_text(const DetectContext& context, std::string_view data, std::vector<TextHit>& out,
                 std::map<std::string, std::uint64_t>& rejected, int depth = 0);

// detect_text with the built-in detectors and caches of its own (tests, fuzzers, benches).
void detect_text(std::string_view data, std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected);

// detect_text for one window of a larger file: handles only the anchors that start in
// [from, to), each with all of `data` as context (kTextLookbehind before `from` and
// kTextLookahead after `to` make it exact). `consumed_until` (an offset into `data`, 0 for none)
// is where the last block found ends, carried from window to window so that an anchor inside a
// block another window took is skipped, as in a whole read.
void detect_text_range(const DetectContext& context, std::string_view data, std::size_t from, std::size_t to,
                       std::size_t& consumed_until, std::vector<TextHit>& out,
                       std::map<std::string, std::uint64_t>& rejected);

}  // namespace keyward::scanner::detail
