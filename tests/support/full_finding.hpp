// SPDX-License-Identifier: Apache-2.0
// A finding with every field set, several to awkward values (quotes, control characters,
// invalid and overlong UTF-8, negative points): what serialisation tests round-trip.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <string>

namespace keyward::test {

inline scanner::CertFacts full_cert(std::string subject) {
  scanner::CertFacts c;
  c.subject = std::move(subject);
  c.issuer = "CN=Issuer \"quoted\" \\ back\tslash";
  c.serial = "0a1b";
  c.not_before = -86400;
  c.not_after = 4102444800;
  c.self_signed = true;
  c.is_ca = true;
  c.key_usage = {"digitalSignature", "keyCertSign"};
  c.extended_key_usage = {"codeSigning"};
  c.signature_algorithm = "sha256WithRSAEncryption";
  c.sha256 = std::string(64, 'a');
  c.spki_sha256 = std::string(64, 'b');
  c.key_algorithm = "rsa";
  c.key_bits = 3072;
  c.key_curve = "P-256";
  c.trust_store = true;
  c.der = std::string("\x30\x82\x00\x01\x00", 5);
  return c;
}

inline scanner::KeyFacts full_key() {
  scanner::KeyFacts k;
  k.algorithm = "ec";
  k.bits = 256;
  k.curve = "P-256";
  k.encrypted = true;
  k.protection = scanner::Protection{"aes-256-cbc", "pbkdf2", 600000};
  k.weak_password = true;
  k.password_exposed_in = "notes/pass.txt";
  k.spki_sha256 = std::string(64, 'c');
  k.ssh_fingerprint = "SHA256:abc/+=";
  k.pgp_fingerprint = "ABCDEF";
  k.comment = std::string("comment \x01\x1f\x7f with controls and \xc3\xa9");
  return k;
}

inline scanner::Finding full_finding() {
  using namespace scanner;
  Finding f;
  f.id = "0123456789abcdef0123456789abcdef";
  f.rule = "private-key/pkcs8";
  f.kind = Kind::keystore;
  f.format = Format::pkcs12;
  f.encoding = "base64";
  f.location = {std::string("dir/k\xff\xfe.pem"), std::string("a.zip!b\x80.p12"), 12, 345, "build-1:2222"};
  f.file = {0640, 1000, 1001, "builder", 2048, 1700000000};
  f.key = full_key();
  f.certificate = full_cert("CN=Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
  f.store.emplace();
  f.store->opened = true;
  f.store->weak_password = true;
  f.store->password_exposed_in = std::string("pass\xff.txt");
  f.store->mac = "sha256";
  f.store->mac_iterations = 2048;
  f.store->encryption = {Protection{"aes-256-cbc", "pbkdf2", 2048}, Protection{"rc2-40", "", std::nullopt}};
  f.store->weaknesses = {"rc2-40"};
  f.store->contents = {"keyBag", "certBag"};
  f.store->truststore = true;
  f.store->certificates = 3;
  StoreEntry with_key;
  with_key.kind = Kind::private_key;
  with_key.alias = std::string("alias\xed\xa0\x80");  // a surrogate: loose UTF-8, replaced when dumped
  with_key.key = full_key();
  with_key.certificate = full_cert(std::string("CN=bad \xe0\x80\xaf overlong"));
  with_key.chain_length = 3;
  with_key.created = 1600000000;
  f.entries = {with_key, StoreEntry{}};
  f.paired_with = {"id1", "id2"};
  f.git = GitFacts{"deadbeef", 1650000000};
  f.risk = RiskFacts{95, 125, "critical", {{"private-key", 30, "why \"one\"\n"}, {"negative", -5, ""}}, "Move it"};
  f.suppressed = Suppression{"allowlist", "approved by ops until 2027"};
  f.trailing_bytes = 37;
  f.identity = "spki:" + std::string(64, 'c');
  f.relative_path = "dir/k.pem";
  return f;
}

}  // namespace keyward::test
