// SPDX-License-Identifier: Apache-2.0
// Microsoft CryptoAPI key blobs (PUBLICKEYBLOB / PRIVATEKEYBLOB, as in .snk files and inside
// PVK files): the clear header and the exact length a well-formed blob of that header must have,
// so a parser can demand that the blob spans its input before OpenSSL reads it.
// Used by: pvk.cpp, snk.cpp. Reads headers only; the key itself is always read by OpenSSL.
#pragma once

#include "encoding.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace keyward::scanner::detail {

// BLOBHEADER (bType, bVersion, reserved, aiKeyAlg) followed by the key's magic and bit length.
struct MsBlobHeader {
  std::uint8_t type = 0;      // 0x06 PUBLICKEYBLOB, 0x07 PRIVATEKEYBLOB
  std::uint8_t version = 0;   // 2
  std::uint32_t key_alg = 0;  // ALG_ID: 0xa400 RSA key exchange, 0x2400 RSA signature, 0x2200 DSS
  std::uint32_t magic = 0;    // "RSA1", "RSA2", "DSS1", "DSS2" as a little-endian u32
  std::uint32_t bits = 0;
};

inline constexpr std::uint8_t kPublicKeyBlob = 0x06;
inline constexpr std::uint8_t kPrivateKeyBlob = 0x07;
inline constexpr std::uint32_t kMagicRsa1 = 0x31415352;  // "RSA1"
inline constexpr std::uint32_t kMagicRsa2 = 0x32415352;  // "RSA2"
inline constexpr std::uint32_t kMagicDss1 = 0x31535344;  // "DSS1"
inline constexpr std::uint32_t kMagicDss2 = 0x32535344;  // "DSS2"
inline constexpr std::size_t kMsBlobHeaderSize = 16;     // BLOBHEADER (8) + magic (4) + bit length (4)
inline constexpr std::uint32_t kMaxBlobBits = 16384;     // larger keys are not real keys

// The 8-byte BLOBHEADER only (what an encrypted PVK leaves in clear).
inline std::optional<MsBlobHeader> read_blob_type(std::span<const std::uint8_t> d) {
  if (d.size() < 8) return std::nullopt;
  MsBlobHeader h;
  h.type = d[0];
  h.version = d[1];
  h.key_alg = read_le32(d, 4);
  return h;
}

// BLOBHEADER, magic and bit length.
inline std::optional<MsBlobHeader> read_blob_header(std::span<const std::uint8_t> d) {
  if (d.size() < kMsBlobHeaderSize) return std::nullopt;
  auto h = read_blob_type(d);
  h->magic = read_le32(d, 8);
  h->bits = read_le32(d, 12);
  return h;
}

// Bytes after the 16-byte header of a blob with this magic and bit length (the layouts of
// Microsoft's "Base Provider Key BLOBs"; OpenSSL's pvkfmt.c computes the same); nullopt for an
// unknown magic or an implausible size.
inline std::optional<std::size_t> blob_body_length(std::uint32_t magic, std::uint32_t bits) {
  if (bits == 0 || bits > kMaxBlobBits) return std::nullopt;
  const std::size_t nbyte = (bits + 7) / 8;
  const std::size_t hnbyte = (bits + 15) / 16;
  switch (magic) {
    case kMagicRsa1:
      return 4 + nbyte;  // pubexp, modulus
    case kMagicRsa2:
      return 4 + 2 * nbyte + 5 * hnbyte;  // pubexp, n, p, q, dp, dq, qinv, d
    case kMagicDss1:
      return 44 + 3 * nbyte;  // p, q (20), g, y, DSSSEED (24)
    case kMagicDss2:
      return 64 + 2 * nbyte;  // p, q (20), g, x (20), DSSSEED (24)
    default:
      return std::nullopt;
  }
}

}  // namespace keyward::scanner::detail
