// SPDX-License-Identifier: Apache-2.0
// Our own parsers for key formats OpenSSL cannot read (docs/architecture.md, "Parsing policy"): OpenSSH
// openssh-key-v1, PuTTY PPK v2/v3, SSH.com/Tectia, armored OpenPGP, JWK, .NET RSAKeyValue XML.
// Used by: the text detectors (text_detect.cpp) and the fuzzers in tests/fuzz/.
// Each is bounds-checked, never reads past its input, never decrypts anything, and returns only
// facts (kind, format, rule, key facts): never key bytes, never the comment's secrets.
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// A parsed object and how many bytes of the input text it spans (from the anchor).
struct Parsed {
  Finding finding;           // kind, format, rule, key (and identity) filled
  std::size_t consumed = 0;  // bytes of input text covered by the block
};

// The decoded (binary) body of an "-----BEGIN OPENSSH PRIVATE KEY-----" block.
Result<Finding> parse_openssh_v1(std::span<const std::uint8_t> blob);

// Text starting at "PuTTY-User-Key-File-" (v2 or v3).
Result<Parsed> parse_ppk(std::string_view text);

// Text starting at "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----".
Result<Parsed> parse_sshcom(std::string_view text);

// Text starting at "-----BEGIN PGP PRIVATE KEY BLOCK-----" (armor, CRC-24 checked).
Result<Parsed> parse_pgp_armor(std::string_view text);
// Binary OpenPGP packets: the first secret-key packet (used for armor and binary keyrings).
Result<Finding> parse_pgp_packets(std::span<const std::uint8_t> packets);
// A binary keyring (secring.gpg, `gpg --export-secret-keys`): one finding per secret key.
Result<std::vector<Finding>> parse_pgp_keyring(std::span<const std::uint8_t> packets);

// One JSON object text ("{...}") that may be a JSON Web Key with private members.
Result<Finding> parse_jwk(std::string_view json_object);

// Text starting at "<RSAKeyValue>" (.NET RSA.ToXmlString(true)).
Result<Parsed> parse_xml_rsa(std::string_view text);

// Shared by the parsers above (defined in openssh.cpp).
// Facts of an SSH wire public key blob (ssh-rsa, ssh-dss, ecdsa-sha2-*, ssh-ed25519, sk-*):
// algorithm, bits, curve, spki_sha256 and ssh_fingerprint; returns the key type string (a view
// into `blob`). The whole blob must be consumed.
Result<std::string_view> ssh_public_key_facts(std::span<const std::uint8_t> blob, KeyFacts& key);
// The identity of a finding from its key: spki_sha256, else "ssh:"+fingerprint, else
// "pgp:"+fingerprint; empty when none is known.
std::string key_identity(const KeyFacts& key);
// A stored comment made safe to report: valid UTF-8 kept, control characters and invalid bytes
// replaced by '?', cut at 256 bytes.
std::string clean_comment(std::string_view raw);

}  // namespace keyward::scanner::detail
