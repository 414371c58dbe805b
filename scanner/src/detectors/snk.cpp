// SPDX-License-Identifier: Apache-2.0
// .NET strong-name keys: a bare PRIVATEKEYBLOB ("RSA2", what `sn -k` writes) or PUBLICKEYBLOB
// ("RSA1"), and the public key file `sn -p` writes (a 12-byte signature/hash algorithm header
// before the PUBLICKEYBLOB). The blob must span the input exactly; OpenSSL reads the key.
#include "detectors/binary.hpp"
#include "detectors/der.hpp"
#include "detectors/msblob.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/pem.h>

namespace keyward::scanner::detail {
namespace {

// StrongNameKeyBlob header of `sn -p` output: SigAlgID, HashAlgID, cbPublicKey (ECMA-335 II.6.3).
constexpr std::size_t kStrongNameHeaderSize = 12;

// The blob itself (no StrongName header) when `data` is exactly one RSA key blob.
Result<MsBlobHeader> check_blob(std::span<const std::uint8_t> data) {
  const auto h = read_blob_header(data);
  if (!h) return make_error_code(Errc::truncated);
  if (h->version != 2) return make_error_code(Errc::bad_magic);
  if (!((h->type == kPrivateKeyBlob && h->magic == kMagicRsa2) ||
        (h->type == kPublicKeyBlob && h->magic == kMagicRsa1)))
    return make_error_code(Errc::bad_magic);
  const auto body = blob_body_length(h->magic, h->bits);
  if (!body) return make_error_code(Errc::bad_structure);
  if (data.size() < kMsBlobHeaderSize + *body) return make_error_code(Errc::truncated);
  if (data.size() != kMsBlobHeaderSize + *body) return make_error_code(Errc::bad_structure);
  return *h;
}

}  // namespace

Result<Finding> parse_snk(std::span<const std::uint8_t> data) {
  auto blob = data;
  auto header = check_blob(blob);
  if (!header && data.size() > kStrongNameHeaderSize + kMsBlobHeaderSize &&
      read_le32(data, 8) == data.size() - kStrongNameHeaderSize) {
    blob = data.subspan(kStrongNameHeaderSize);
    header = check_blob(blob);
    if (header && header->type != kPublicKeyBlob) return make_error_code(Errc::bad_structure);
  }
  if (!header) return header.error();

  const bool is_private = header->type == kPrivateKeyBlob;
  clear_errors();
  const unsigned char* p = blob.data();
  PkeyPtr pkey(is_private ? b2i_PrivateKey(&p, static_cast<long>(blob.size()))
                          : b2i_PublicKey(&p, static_cast<long>(blob.size())));
  if (!pkey) {
    clear_errors();
    return make_error_code(Errc::crypto_error);
  }
  Finding f;
  f.kind = is_private ? Kind::private_key : Kind::public_key;
  f.format = Format::snk;
  f.rule = is_private ? "private-key/snk" : "public-key/snk";
  f.key.emplace();
  fill_key_facts(pkey.get(), *f.key);
  set_der_identity(f, data);
  return f;
}

}  // namespace keyward::scanner::detail
