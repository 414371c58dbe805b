// Text detection over a whole buffer: the prefilter finds anchors, each anchor's detector
// validates the block, and hits come back in order with their byte offsets.
// Used by: scan.cpp (per file) and, recursively, for base64-wrapped PEM.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// One validated object found in a buffer.
struct TextHit {
  Finding finding;          // kind, format, rule, key/certificate, identity, encoding
  std::size_t offset = 0;   // where its block starts in the buffer
};

// Finds every text-encoded key, certificate and public key in `data`. Candidate blocks that
// look like a known format but do not validate are counted in `rejected` by family.
void detect_text(std::string_view data, std::vector<TextHit>& out,
                 std::map<std::string, std::uint64_t>& rejected);

}  // namespace keyward::scanner::detail
