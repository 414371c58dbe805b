// The heads binary formats announce themselves by: one predicate per format, over the first
// bytes of an item (at least 4; a file reader hands 512) and the item's size. The registry's
// binary sniff (detector.hpp) asks them in list order (detector_list.cpp); none reads past `h`.
#include "detectors/binary.hpp"

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

// zip, gzip, xz, zstd, bzip2, 7z, ar (.deb), tar.
bool head_archive(Head h, std::uint64_t) {
  if (starts(h, "!<arch>\n") || starts(h, "PK\x03\x04") || starts(h, "PK\x05\x06") || starts(h, "\x1F\x8B") ||
      starts(h,
             "\xFD"
             "7zXZ") ||
      starts(h, "\x28\xB5\x2F\xFD") || starts(h, "BZh") || starts(h, "7z\xBC\xAF\x27\x1C"))
    return true;
  return h.size() >= 262 && std::memcmp(h.data() + 257, "ustar", 5) == 0;
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
