// SPDX-License-Identifier: Apache-2.0
// The anchors of DER private keys with no PEM armour (docs/scan.md, "Unarmoured and embedded
// DER keys"): the base64 text of a structure's fixed leading bytes, for a key pasted into source
// or config, and the raw fixed bytes, for a key stored inside a binary file. Every anchor is
// computed here at compile time from the structure's bytes, so the source holds no base64 key
// text, and none depends on a length byte (base64 anchors start on a 3-byte group boundary of
// the DER and stop before the first byte that varies).
// Used by: detector_list.cpp (the prefilter literals) and bare_der.cpp (which anchor matched,
// where its DER starts).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace keyward::scanner::detail::bare_der {

// Finding::encoding of a raw DER key found inside a binary file (docs/findings.md).
inline constexpr std::string_view kEncodingEmbedded = "embedded";

// A literal computed at compile time.
template <std::size_t N>
struct Literal {
  std::array<char, N> text{};
  constexpr std::string_view view() const noexcept { return {text.data(), N}; }
};

// The bytes themselves (an anchor for binary data).
template <std::size_t N>
constexpr Literal<N> raw(const unsigned char (&bytes)[N]) {
  Literal<N> out;
  for (std::size_t i = 0; i < N; ++i) out.text[i] = static_cast<char>(bytes[i]);
  return out;
}

// Base64 characters [From, To) of `bytes`, which start on a 3-byte group boundary of the DER.
// Only the bits of those characters count: a byte (or the part of one) that only characters
// before From depend on is a placeholder (a length byte, a curve's OID length).
template <std::size_t From, std::size_t To, std::size_t N>
constexpr Literal<To - From> b64(const unsigned char (&bytes)[N]) {
  static_assert(From < To && To * 6 <= N * 8, "a character would depend on a byte after the fixed ones");
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Literal<To - From> out;
  for (std::size_t i = From; i < To; ++i) {
    const std::size_t bit = i * 6;
    const unsigned hi = bytes[bit / 8];
    const unsigned lo = bit / 8 + 1 < N ? bytes[bit / 8 + 1] : 0u;
    out.text[i - From] = kAlphabet[(((hi << 8) | lo) >> (10 - bit % 8)) & 0x3fu];
  }
  return out;
}

// A base64 anchor and how many base64 characters of the DER come before it.
struct Base64Anchor {
  std::string_view text;
  std::size_t chars_before;
};

// A raw anchor and how many bytes lie between the end of the DER's SEQUENCE header and it.
struct RawAnchor {
  std::string_view text;
  std::size_t after_header;
};

// Few anchors, each shared by as many structures as it can be: every literal added to the
// prefilter costs every byte scanned (docs/scan.md, "Unarmoured and embedded DER keys").
//
// PKCS#8 RSA, 30 82 LL LL 02 01 00 | 30 0D 06 09 <rsaEncryption> ...: DER characters 8..22.
inline constexpr auto kRsaPkcs8 = b64<0, 15>({0x00, 0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01});
// PKCS#8 EC, id-ecPublicKey (06 07 2A 86 48 CE 3D 02 01) at byte 9 after a 30 81 LL header (P-256
// to P-521 with their public key) or at byte 8 after 30 LL (no public key): characters 12..19.
inline constexpr auto kEcPkcs8Long = b64<0, 8>({0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D});
inline constexpr auto kEcPkcs8Short = b64<0, 8>({0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02});
// PKCS#8 Ed25519, X25519, Ed448, X448 (RFC 8410), 30 LL 02 | 01 00 30 05 06 03 2B 65 ...:
// characters 4..13.
inline constexpr auto kRfc8410Pkcs8 = b64<0, 10>({0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65});
// PKCS#1 RSA (and DSA) of 1024 bits and more, 30 82 LL | LL 02 01 00 02 8x: characters 6..10
// (the second length byte is a placeholder, and only the top bits of 8x count).
inline constexpr auto kPkcs1 = b64<2, 7>({0x00, 0x02, 0x01, 0x00, 0x02, 0x80});
// SEC1 ECPrivateKey (RFC 5915) with a 32-byte private key, 30 LL 02 | 01 01 04 20: characters
// 3..8 (LL is a placeholder); and P-384 / P-521, 30 81 LL | 02 01 01 04: characters 4..8.
inline constexpr auto kSec1Short = b64<3, 9>({0x30, 0x00, 0x02, 0x01, 0x01, 0x04, 0x20});
inline constexpr auto kSec1Long = b64<0, 5>({0x02, 0x01, 0x01, 0x04});

inline constexpr std::array<Base64Anchor, 7> kBase64{{
    {kRsaPkcs8.view(), 8},
    {kEcPkcs8Long.view(), 12},
    {kEcPkcs8Short.view(), 12},
    {kRfc8410Pkcs8.view(), 4},
    {kPkcs1.view(), 6},
    {kSec1Short.view(), 3},
    {kSec1Long.view(), 4},
}};

// The raw bytes of the same structures.
inline constexpr auto kRawRsaPkcs8 = raw({0x02, 0x01, 0x00, 0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48,
                                          0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x82});
inline constexpr auto kRawEcOid = raw({0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01});
inline constexpr auto kRawRfc8410 = raw({0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65});
inline constexpr auto kRawPkcs1 = raw({0x02, 0x01, 0x00, 0x02, 0x82});
inline constexpr auto kRawPkcs1_1024 = raw({0x02, 0x01, 0x00, 0x02, 0x81, 0x81, 0x00});
inline constexpr auto kRawSec1 = raw({0x02, 0x01, 0x01, 0x04});

inline constexpr std::array<RawAnchor, 6> kRaw{{
    {kRawRsaPkcs8.view(), 0},
    {kRawEcOid.view(), 5},  // after 02 01 00 30 LL
    {kRawRfc8410.view(), 0},
    {kRawPkcs1.view(), 0},
    {kRawPkcs1_1024.view(), 0},
    {kRawSec1.view(), 0},
}};

// The anchor texts of a table, for a detector entry's Names.
template <class Anchor, std::size_t N>
constexpr std::array<std::string_view, N> texts(const std::array<Anchor, N>& table) {
  std::array<std::string_view, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = table[i].text;
  return out;
}
inline constexpr auto kBase64Texts = texts(kBase64);
inline constexpr auto kRawTexts = texts(kRaw);

}  // namespace keyward::scanner::detail::bare_der
