// SPDX-License-Identifier: Apache-2.0
#include "text_detect.hpp"

#include "detectors/detector.hpp"
#include "openssl/handles.hpp"

#include <openssl/err.h>

#include <algorithm>

namespace keyward::scanner::detail {
namespace {

// Hands each anchor to its detector's text parser, in order, skipping anchors inside a block
// already taken.
void detect_anchors(const DetectContext& context, std::string_view data, const std::vector<AnchorHit>& anchors,
                    std::size_t& consumed_until, std::vector<TextHit>& out,
                    std::map<std::string, std::uint64_t>& rejected, int depth) {
  const std::span<const Detector> detectors = context.registry().detectors();
  for (const AnchorHit& a : anchors) {
    if (a.at < consumed_until) continue;
    const std::size_t before = out.size();
    // No detector reads past kTextLookahead from its anchor, so a window that holds that much
    // after the anchor gives the same answer as the whole file.
    const std::string_view cut = data.substr(0, std::min(data.size(), a.at + kTextLookahead));
    detectors[a.detector].text(TextMatch{cut, a.at, depth, context, out, consumed_until, rejected});
    // A finding with no key fingerprint (an encrypted SSH.com key) is known by its block.
    for (std::size_t i = before; i < out.size(); ++i) {
      if (out[i].finding.identity.empty()) {
        const std::size_t end = std::max(consumed_until, a.at);
        out[i].finding.identity = "blob:" + sha256_hex(data.substr(a.at, end - a.at));
      }
    }
    ERR_clear_error();  // parsers may leave OpenSSL errors behind; never let them pile up
  }
}

}  // namespace

void detect_text(const DetectContext& context, std::string_view data, std::vector<TextHit>& out,
                 std::map<std::string, std::uint64_t>& rejected, int depth) {
  std::vector<AnchorHit> anchors;
  context.registry().prefilter().find(data, anchors);
  std::size_t consumed_until = 0;
  detect_anchors(context, data, anchors, consumed_until, out, rejected, depth);
}

void detect_text(std::string_view data, std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected) {
  const DetectContext context(builtin_registry());
  detect_text(context, data, out, rejected, 0);
}

void detect_text_range(const DetectContext& context, std::string_view data, std::size_t from, std::size_t to,
                       std::size_t& consumed_until, std::vector<TextHit>& out,
                       std::map<std::string, std::uint64_t>& rejected) {
  std::vector<AnchorHit> anchors;
  context.registry().prefilter().find_in(data, from, to, anchors);
  detect_anchors(context, data, anchors, consumed_until, out, rejected, 0);
}

}  // namespace keyward::scanner::detail
