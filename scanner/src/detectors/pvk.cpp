// SPDX-License-Identifier: Apache-2.0
// Windows PVK private key files (magic 0xB0B5F11E): a 24-byte header, an optional salt and a
// PRIVATEKEYBLOB whose first 8 bytes (the BLOBHEADER) stay in clear when the rest is RC4-encrypted
// with SHA1(salt || password). Unencrypted keys are read by OpenSSL (b2i_PVK_bio); encrypted ones
// report what the clear header and the blob length tell.
#include "detectors/binary.hpp"
#include "detectors/der.hpp"
#include "detectors/msblob.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/pem.h>

namespace keyward::scanner::detail {
namespace {

constexpr std::uint32_t kPvkMagic = 0xB0B5F11E;
constexpr std::size_t kPvkHeaderSize = 24;
// OpenSSL's limits (pvkfmt.c PVK_MAX_KEYLEN / PVK_MAX_SALTLEN).
constexpr std::uint32_t kMaxKeyLen = 102400;
constexpr std::uint32_t kMaxSaltLen = 10240;
constexpr std::uint32_t kAlgRsaKeyx = 0xA400;
constexpr std::uint32_t kAlgRsaSign = 0x2400;
constexpr std::uint32_t kAlgDssSign = 0x2200;

// The key size of an encrypted blob, from its length (exact for RSA sizes that are a multiple
// of 16 bits and DSA sizes that are a multiple of 8): the bit length itself is encrypted.
std::optional<std::uint32_t> bits_from_length(std::string_view algorithm, std::size_t keylen) {
  if (keylen <= kMsBlobHeaderSize) return std::nullopt;
  const std::size_t body = keylen - kMsBlobHeaderSize;
  if (algorithm == "rsa" && body > 4 && (body - 4) % 9 == 0) {
    const auto bits = static_cast<std::uint32_t>((body - 4) / 9 * 16);
    if (blob_body_length(kMagicRsa2, bits) == body) return bits;
  }
  if (algorithm == "dsa" && body > 64 && (body - 64) % 2 == 0) {
    const auto bits = static_cast<std::uint32_t>((body - 64) / 2 * 8);
    if (blob_body_length(kMagicDss2, bits) == body) return bits;
  }
  return std::nullopt;
}

}  // namespace

Result<Finding> parse_pvk(std::span<const std::uint8_t> data) {
  if (data.size() < kPvkHeaderSize) return make_error_code(Errc::truncated);
  if (read_le32(data, 0) != kPvkMagic) return make_error_code(Errc::bad_magic);
  const std::uint32_t encrypted = read_le32(data, 12);
  const std::uint32_t saltlen = read_le32(data, 16);
  const std::uint32_t keylen = read_le32(data, 20);
  if (keylen > kMaxKeyLen || saltlen > kMaxSaltLen || encrypted > 1) return make_error_code(Errc::bad_structure);
  if ((encrypted == 1) != (saltlen > 0)) return make_error_code(Errc::bad_structure);
  const std::size_t total = kPvkHeaderSize + saltlen + keylen;
  if (data.size() < total) return make_error_code(Errc::truncated);
  if (data.size() != total) return make_error_code(Errc::bad_structure);

  const auto blob = data.subspan(kPvkHeaderSize + saltlen);
  const auto type = read_blob_type(blob);
  if (!type) return make_error_code(Errc::truncated);
  if (type->type != kPrivateKeyBlob || type->version != 2) return make_error_code(Errc::bad_structure);

  Finding f;
  f.kind = Kind::private_key;
  f.format = Format::pvk;
  f.rule = "private-key/pvk";
  f.key.emplace();

  if (encrypted == 1) {
    switch (type->key_alg) {
      case kAlgRsaKeyx:
      case kAlgRsaSign:
        f.key->algorithm = "rsa";
        break;
      case kAlgDssSign:
        f.key->algorithm = "dsa";
        break;
      default:
        return make_error_code(Errc::unsupported);
    }
    f.key->bits = bits_from_length(f.key->algorithm, keylen);
    f.key->encrypted = true;
    // The key is SHA-1 of salt and password; RC4 with 128 or 40 bits ("strong"/"weak"), which
    // only the password tells apart.
    f.key->protection = Protection{"rc4", "sha1", std::nullopt};
    f.identity = "blob:" + sha256_hex(std::span<const unsigned char>(data.data(), data.size()));
    return f;
  }

  const auto header = read_blob_header(blob);
  if (!header) return make_error_code(Errc::truncated);
  if (header->magic != kMagicRsa2 && header->magic != kMagicDss2) return make_error_code(Errc::bad_structure);
  const auto body = blob_body_length(header->magic, header->bits);
  if (!body || kMsBlobHeaderSize + *body != keylen) return make_error_code(Errc::bad_structure);

  clear_errors();
  BioPtr bio = mem_bio(std::span<const unsigned char>(data.data(), data.size()));
  if (!bio) return make_error_code(Errc::crypto_error);
  PkeyPtr pkey(b2i_PVK_bio(bio.get(), no_password_cb, nullptr));
  if (!pkey) {
    clear_errors();
    return make_error_code(Errc::crypto_error);
  }
  fill_key_facts(pkey.get(), *f.key);
  set_der_identity(f, data);
  return f;
}

}  // namespace keyward::scanner::detail
