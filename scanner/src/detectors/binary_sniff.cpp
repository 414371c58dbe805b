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

bool starts(std::span<const std::uint8_t> h, std::string_view magic) {
  return h.size() >= magic.size() && std::memcmp(h.data(), magic.data(), magic.size()) == 0;
}

// A DER/BER SEQUENCE header at offset 0: returns true when the encoded length covers exactly the
// input of `size` bytes (definite length), or the length is indefinite (BER, as some PKCS#12
// writers use).
bool sequence_spans(std::span<const std::uint8_t> data, std::uint64_t size, bool& indefinite) {
  indefinite = false;
  if (data.size() < 2 || data[0] != 0x30) return false;
  const std::uint8_t l = data[1];
  if (l == 0x80) {
    indefinite = true;
    return true;
  }
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

BinaryHead sniff_binary(std::span<const std::uint8_t> h) noexcept { return sniff_binary(h, h.size()); }

BinaryHead sniff_binary(std::span<const std::uint8_t> h, std::uint64_t size) noexcept {
  if (h.size() < 4) return BinaryHead::none;
  if (starts(h, "\xFE\xED\xFE\xED")) return BinaryHead::jks;
  if (starts(h, "\xCE\xCE\xCE\xCE")) return BinaryHead::jceks;
  if (starts(h, "\x1E\xF1\xB5\xB0")) return BinaryHead::pvk;
  if (h.size() >= 12 && (h[0] == 0x07 || h[0] == 0x06) && h[1] == 0x02 && h[2] == 0 && h[3] == 0 &&
      (std::memcmp(h.data() + 8, "RSA2", 4) == 0 || std::memcmp(h.data() + 8, "RSA1", 4) == 0))
    return BinaryHead::snk;
  // OpenPGP secret-key (5) or secret-subkey (7) packet: old format 0b10TTTTLL, new 0b11TTTTTT.
  if ((h[0] & 0xC0) == 0x80 && (((h[0] >> 2) & 0x0F) == 5 || ((h[0] >> 2) & 0x0F) == 7))
    return BinaryHead::pgp_packets;
  if (h[0] == 0xC5 || h[0] == 0xC7) return BinaryHead::pgp_packets;
  if (starts(h, "(11:private-key") || starts(h, "(21:protected-private-key") ||
      starts(h, "(20:shadowed-private-key") || starts(h, "Created: ") || starts(h, "Key: (") ||
      starts(h, "Key: (protected-private-key"))
    return BinaryHead::gpg_key_file;
  if (starts(h, "PK\x03\x04") || starts(h, "PK\x05\x06") || starts(h, "\x1F\x8B") ||
      starts(h, "\xFD" "7zXZ") || starts(h, "\x28\xB5\x2F\xFD") || starts(h, "BZh") ||
      starts(h, "7z\xBC\xAF\x27\x1C"))
    return BinaryHead::archive;
  if (h.size() >= 262 && std::memcmp(h.data() + 257, "ustar", 5) == 0) return BinaryHead::archive;
  bool indefinite = false;
  if (sequence_spans(h, size, indefinite)) return indefinite ? BinaryHead::pkcs12_or_der : BinaryHead::der;
  return BinaryHead::none;
}

}  // namespace keyward::scanner::detail
