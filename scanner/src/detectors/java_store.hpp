// SPDX-License-Identifier: Apache-2.0
// Pieces every Java-side key store reader shares (JKS/JCEKS in jks.cpp, Bouncy Castle BKS/UBER
// in bks.cpp, BCFKS in bcfks.cpp): Java's password and string encodings, length-prefixed
// fields, certificate and PKCS#8 decoding, the password budget and the store's identity.
// Private to the scanner. Never logs or returns a password or decrypted bytes.
#pragma once

#include "detectors/binary.hpp"
#include "encoding.hpp"
#include "openssl/handles.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// One certificate or encrypted key: a Java length field past this is refused as too large.
inline constexpr std::size_t kMaxJavaBlob = std::size_t{1} << 20;

// Java's char[] password as UTF-16BE bytes. The candidate is taken as UTF-8; bytes that are not
// valid UTF-8 count as Latin-1 characters (one char each).
SecretBytes utf16be(std::string_view s);

// Bouncy Castle's PBEParametersGenerator.PKCS12PasswordToBytes: UTF-16BE and two zero bytes,
// or nothing at all for the empty password.
SecretBytes pkcs12_password_bytes(std::string_view s);

// DataOutputStream.writeUTF: u16 length + modified UTF-8 (a view into the input).
bool read_java_utf(Reader& r, std::string_view& out);

// A length field Java wrote with writeInt, then that many bytes: negative is malformed, past
// kMaxJavaBlob too large.
Result<std::span<const std::uint8_t>> read_java_blob(Reader& r);

// Facts of a DER certificate spanning `der` (and of its public key into `key`, when given);
// nullopt if OpenSSL cannot read it.
std::optional<CertFacts> der_certificate_facts(std::span<const std::uint8_t> der, KeyFacts* key);

// A PKCS#8 PrivateKeyInfo spanning `der` exactly, as an OpenSSL key.
common::PkeyPtr pkcs8_key(std::span<const std::uint8_t> der);

// Adds a value once.
void add_distinct(std::vector<std::string>& list, std::string_view value);
void add_distinct(std::vector<Protection>& list, const Protection& p);

// A store finding's identity: the sorted SPKI digests of its key entries, else "blob:" and the
// SHA-256 of its bytes.
std::string store_identity(const Finding& f, std::span<const std::uint8_t> data);

// True when no entry of the store is a key: a certificate inventory.
bool no_key_entries(const Finding& f);

}  // namespace keyward::scanner::detail
