// The text hot path: one pass of vectorscan over a buffer for every text anchor of every
// detector (PEM "-----BEGIN ", PuTTY, SSH.com, JWK, XML, base64-wrapped PEM).
// Used by: text_detect.cpp. The compiled database is shared read-only; each thread owns
// its scratch (docs/architecture.md, "Threading").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// Which anchor matched.
enum class Anchor : std::uint8_t { pem, sshcom, putty, jwk, xml_rsa, base64_pem };

// One anchor hit: where the literal starts.
struct AnchorHit {
  Anchor anchor;
  std::size_t at;
};

// Finds every anchor in `data`, in order of position. Thread-safe (per-thread scratch).
void find_anchors(std::string_view data, std::vector<AnchorHit>& out);

// Finds the anchors that start in [from, to) of `data` (each may run past `to`), in order of
// position, with offsets into `data`: one window's share of a file scanned in pieces.
void find_anchors_in(std::string_view data, std::size_t from, std::size_t to, std::vector<AnchorHit>& out);

// The literal of an anchor.
std::string_view anchor_literal(Anchor a) noexcept;

}  // namespace keyward::scanner::detail
