// SPDX-License-Identifier: Apache-2.0
// The heads binary formats announce themselves by: one predicate per format, over the first
// bytes of an item (at least 4; a file reader hands 512) and the item's size. The registry's
// binary sniff (detector.hpp) asks them in list order (detector_list.cpp); none reads past `h`.
#include "detectors/binary.hpp"

#include <bit>
#include <cctype>
#include <cstring>
#include <string_view>

namespace keyward::scanner::detail {

void mark_opened_by(const PasswordCandidate& c, StoreFacts& store) {
  store.opened = true;
  if (c.source.empty()) store.weak_password = true;
  else store.password_exposed_in = c.source;
}

namespace {

using Head = std::span<const std::uint8_t>;

bool starts(Head h, std::string_view magic) {
  return h.size() >= magic.size() && std::memcmp(h.data(), magic.data(), magic.size()) == 0;
}

// A DER/BER SEQUENCE header at offset 0: true when the encoded length covers exactly the input
// of `size` bytes (definite length), or the length is indefinite (BER, as some PKCS#12 writers
// use).
bool sequence_spans(Head data, std::uint64_t size) {
  if (data.size() < 2 || data[0] != 0x30) return false;
  const std::uint8_t l = data[1];
  if (l == 0x80) return true;
  std::size_t header = 2;
  std::size_t len = 0;
  if (l < 0x80) {
    len = l;
  } else {
    const std::size_t n = l & 0x7f;
    if (n == 0 || n > 4 || data.size() < 2 + n) return false;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | data[2 + i];
    if (n > 1 && data[2] == 0) return false;  // DER: minimal length encoding
    header += n;
  }
  return header + len == size;
}

std::uint32_t be32(Head h, std::size_t at) {
  return (std::uint32_t{h[at]} << 24) | (std::uint32_t{h[at + 1]} << 16) | (std::uint32_t{h[at + 2]} << 8) | h[at + 3];
}

}  // namespace

// Java KeyStore (FEEDFEED) and JCEKS (CECECECE).
bool head_jks(Head h, std::uint64_t) { return starts(h, "\xFE\xED\xFE\xED") || starts(h, "\xCE\xCE\xCE\xCE"); }

// PVK (B0B5F11E, little-endian).
bool head_pvk(Head h, std::uint64_t) { return starts(h, "\x1E\xF1\xB5\xB0"); }

// A PRIVATEKEYBLOB (07) or PUBLICKEYBLOB (06) of an RSA2/RSA1 key.
bool head_snk(Head h, std::uint64_t) {
  return h.size() >= 12 && (h[0] == 0x07 || h[0] == 0x06) && h[1] == 0x02 && h[2] == 0 && h[3] == 0 &&
         (std::memcmp(h.data() + 8, "RSA2", 4) == 0 || std::memcmp(h.data() + 8, "RSA1", 4) == 0);
}

// An OpenPGP secret-key (5) or secret-subkey (7) packet: old format 0b10TTTTLL, new 0b11TTTTTT.
bool head_pgp_packets(Head h, std::uint64_t) {
  if (h.empty()) return false;
  if ((h[0] & 0xC0) == 0x80 && (((h[0] >> 2) & 0x0F) == 5 || ((h[0] >> 2) & 0x0F) == 7)) return true;
  return h[0] == 0xC5 || h[0] == 0xC7;
}

// A GnuPG private-keys-v1.d key file: canonical S-expression or the extended "Key:" format.
bool head_gpg_key_file(Head h, std::uint64_t) {
  return starts(h, "(11:private-key") || starts(h, "(21:protected-private-key") ||
         starts(h, "(20:shadowed-private-key") || starts(h, "Created: ") || starts(h, "Key: (") ||
         starts(h, "Key: (protected-private-key");
}

// A .rpm: the lead's magic and format version 3 or 4, then the signature header's magic at 96.
bool rpm_head(Head h) {
  return starts(h, "\xED\xAB\xEE\xDB") && h.size() >= 99 && (h[4] == 3 || h[4] == 4) &&
         std::memcmp(h.data() + 96, "\x8E\xAD\xE8", 3) == 0;
}

// A cpio archive in the portable ASCII forms: newc ("070701"), newc with CRC ("070702") or odc
// ("070707"), the magic followed by the header's hex (newc, 13 fields of 8) or octal (odc, 70)
// digits.
bool cpio_head(Head h) {
  const bool newc = starts(h, "070701") || starts(h, "070702");
  if (!newc && !starts(h, "070707")) return false;
  const std::size_t digits = newc ? 13 * 8 : 70;
  if (h.size() < 6 + digits) return false;
  for (std::size_t i = 6; i < 6 + digits; ++i) {
    const char c = static_cast<char>(h[i]);
    const bool ok = newc ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '7');
    if (!ok) return false;
  }
  return true;
}

// An LZMA-alone stream (.lzma, `xz --format=lzma`), which has no magic: a properties byte
// lc + 9 * (lp + 5 * pb) with lc <= 8, lp <= 4, pb <= 4; a dictionary size of 2^n or
// 2^n + 2^(n-1) between 4 KiB and 1 GiB, as encoders write; an uncompressed size unknown (all
// ones) or below 256 GiB, as liblzma's decoder requires.
bool lzma_alone_head(Head h) {
  if (h.size() < 13 || h[0] > (4 * 5 + 4) * 9 + 8) return false;
  std::uint32_t dict = 0;
  for (int i = 4; i >= 1; --i) dict = (dict << 8) | h[static_cast<std::size_t>(i)];
  if (dict < (1u << 12) || dict > (1u << 30)) return false;
  const std::uint32_t top = std::uint32_t{1} << (31 - std::countl_zero(dict));
  if (dict != top && dict != top + top / 2) return false;
  std::uint64_t size = 0;
  for (int i = 12; i >= 5; --i) size = (size << 8) | h[static_cast<std::size_t>(i)];
  return size == ~std::uint64_t{0} || size < (std::uint64_t{1} << 38);
}

// zip, gzip, xz, zstd, bzip2, 7z, ar (.deb), tar, cpio, rpm, LZMA-alone.
bool head_archive(Head h, std::uint64_t) {
  if (starts(h, "!<arch>\n") || starts(h, "PK\x03\x04") || starts(h, "PK\x05\x06") || starts(h, "\x1F\x8B") ||
      starts(h,
             "\xFD"
             "7zXZ") ||
      starts(h, "\x28\xB5\x2F\xFD") || starts(h, "BZh") || starts(h, "7z\xBC\xAF\x27\x1C"))
    return true;
  if (rpm_head(h) || cpio_head(h) || lzma_alone_head(h)) return true;
  return h.size() >= 262 && std::memcmp(h.data() + 257, "ustar", 5) == 0;
}

namespace {

// Bouncy Castle's BKS/UBER header: version 0, 1 or 2, a salt length of 20 (what BC writes), the
// salt, and an iteration count of at most 65,536 (BC writes 1,024..2,047; UBER refuses more).
// Sets `body` to the offset after it.
bool bc_store_header(Head h, std::uint64_t size, std::size_t& body) {
  constexpr std::size_t kSaltLen = 20;
  body = 4 + 4 + kSaltLen + 4;
  if (h.size() <= body || size <= body) return false;
  if (be32(h, 0) > 2 || be32(h, 4) != kSaltLen) return false;
  const std::uint32_t iterations = be32(h, 4 + 4 + kSaltLen);
  return iterations > 0 && iterations <= (1u << 16);
}

// Java's modified UTF-8 as writeUTF writes it: no NUL byte, well-formed 1-3 byte sequences.
bool modified_utf8(Head s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::uint8_t b = s[i];
    const std::size_t n = b == 0 ? 0 : b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

// Bouncy Castle BKS: the header, then an entry type (0 ends the store, which then holds only its
// 20-byte MAC), its alias in modified UTF-8, date and a chain length of at most 1,000, as far as
// the head shows them.
bool head_bks(Head h, std::uint64_t size) {
  std::size_t p = 0;
  if (!bc_store_header(h, size, p)) return false;
  const std::uint8_t type = h[p++];
  if (type == 0) return size == p + 20;
  if (type > 4 || h.size() < p + 2) return false;
  const std::size_t alias_len = (std::size_t{h[p]} << 8) | h[p + 1];
  p += 2;
  if (size < p + alias_len + 8 + 4 + 1 + 20) return false;
  if (h.size() < p + alias_len) return true;  // an alias longer than the head: trust the rest
  if (!modified_utf8(h.subspan(p, alias_len))) return false;
  p += alias_len + 8;
  return h.size() < p + 4 || be32(h, p) <= 1000;
}

// Bouncy Castle UBER: the header, then Twofish-CBC ciphertext in whole 16-byte blocks (at least
// two: the end byte and the SHA-1 digest). Asked after BKS, whose body is in clear.
bool head_uber(Head h, std::uint64_t size) {
  std::size_t p = 0;
  if (!bc_store_header(h, size, p)) return false;
  return size - p >= 32 && (size - p) % 16 == 0;
}

// Bouncy Castle BCFKS: a DER SEQUENCE spanning the input, whose first element is a SEQUENCE
// starting with the AlgorithmIdentifier of PBES2 (EncryptedObjectStoreData).
bool head_bcfks(Head h, std::uint64_t size) {
  static constexpr std::uint8_t kPbes2[] = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D};
  if (!sequence_spans(h, size) || h[1] == 0x80) return false;
  std::size_t p = 0;
  for (int depth = 0; depth < 3; ++depth) {
    if (p + 2 > h.size() || h[p] != 0x30) return false;
    const std::uint8_t l = h[p + 1];
    p += 2 + (l & 0x80 ? (l & 0x7f) : 0);
  }
  return p + sizeof kPbes2 <= h.size() && std::memcmp(h.data() + p, kPbes2, sizeof kPbes2) == 0;
}

// A DER object spanning the whole input whose content begins with version INTEGER 3, as a
// PKCS#12 PFX does.
bool head_pkcs12(Head h, std::uint64_t size) {
  if (!sequence_spans(h, size) || h.size() < 8) return false;
  std::size_t p = 2;
  if (h[1] & 0x80) p += h[1] & 0x7f;
  return p + 3 <= h.size() && h[p] == 0x02 && h[p + 1] == 0x01 && h[p + 2] == 0x03;
}

// Any DER (or indefinite-length BER) SEQUENCE spanning the whole input.
bool head_der(Head h, std::uint64_t size) { return sequence_spans(h, size); }

}  // namespace keyward::scanner::detail
