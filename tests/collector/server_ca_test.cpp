// SPDX-License-Identifier: Apache-2.0
#include "server/ca.hpp"

#include "collector/server_fixture.hpp"

#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

#include <keyward/common/openssl_handles.hpp>

#include <openssl/x509v3.h>

#include <memory>

using namespace keyward::collector;
using keyward::test::make_csr;
using keyward::test::TempTree;

namespace {

keyward::common::X509Ptr parse_cert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return keyward::common::X509Ptr(x);
}

std::string cn_of(X509* x) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  return buf;
}

// One CA for the whole file: key generation is cheap for EC, but the files are reused.
struct CaFiles {
  TempTree dir;
  std::string cert = dir.path("ca.pem"), key = dir.path("ca.key");
  CaFiles() { make_ca(cert, key, "test CA"); }
};
CaFiles& ca_files() {
  static CaFiles f;
  return f;
}

}  // namespace

TEST_CASE("a new CA key is written mode 0600 and an existing key file is never overwritten") {
  CHECK(keyward::test::file_mode(ca_files().key) == 0600);
  CHECK_THROWS_AS(make_ca(ca_files().cert, ca_files().key, "again"), std::runtime_error);
  auto ca = parse_cert(CertificateAuthority(ca_files().cert, ca_files().key).ca_pem());
  REQUIRE(ca);
  CHECK(X509_check_ca(ca.get()) != 0);
  CHECK((X509_get_key_usage(ca.get()) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
}

TEST_CASE("an agent CSR is signed with the agent id as CN and clientAuth, whatever subject it asked for") {
  CertificateAuthority ca(ca_files().cert, ca_files().key);
  auto signed_agent = ca.sign_agent_csr(make_csr("ec", "admin"));
  REQUIRE(signed_agent.has_value());
  CHECK(signed_agent->agent_id.size() == 16);
  CHECK(signed_agent->cert_sha256.size() == 64);
  CHECK(signed_agent->spki_sha256.size() == 64);
  CHECK(!signed_agent->serial_hex.empty());
  auto cert = parse_cert(signed_agent->cert_pem);
  REQUIRE(cert);
  CHECK(cn_of(cert.get()) == signed_agent->agent_id);
  auto ca_cert = parse_cert(ca.ca_pem());
  CHECK(X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())) == 1);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT) != 0);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) == 0);
  CHECK(X509_check_ca(cert.get()) == 0);
  // Two enrollments never share an id or a serial.
  auto other = ca.sign_agent_csr(make_csr("ec"));
  REQUIRE(other.has_value());
  CHECK(other->agent_id != signed_agent->agent_id);
  CHECK(other->serial_hex != signed_agent->serial_hex);
}

TEST_CASE("weak RSA-1024 keys, garbage and CSRs whose signature does not verify are refused") {
  CertificateAuthority ca(ca_files().cert, ca_files().key);
  auto weak = ca.sign_agent_csr(make_csr("rsa1024"));
  REQUIRE(!weak.has_value());
  CHECK(weak.error().message.find("RSA-1024") != std::string::npos);
  CHECK(!ca.sign_agent_csr("not a csr").has_value());
  std::string csr = make_csr("ec");
  // Flip one character of the base64 body near the end (the signature).
  const auto end = csr.find("-----END");
  REQUIRE(end != std::string::npos);
  csr[end - 6] = csr[end - 6] == 'A' ? 'B' : 'A';
  CHECK(!ca.sign_agent_csr(csr).has_value());
  CHECK(ca.sign_agent_csr(make_csr("rsa2048")).has_value());
}

TEST_CASE("the server certificate carries DNS and IP SANs and serverAuth") {
  TempTree dir;
  make_server_certificate(ca_files().cert, ca_files().key, dir.path("s.pem"), dir.path("s.key"),
                          {"collector.example", "127.0.0.1"});
  CHECK(keyward::test::file_mode(dir.path("s.key")) == 0600);
  std::ifstream in(dir.path("s.pem"));
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto cert = parse_cert(pem);
  REQUIRE(cert);
  CHECK(X509_check_host(cert.get(), "collector.example", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) != 0);
  CHECK(spki_sha256_of_file(dir.path("s.pem")) == spki_sha256_of_file(dir.path("s.key")));
}

TEST_CASE("a CA key that does not belong to the CA certificate is refused at load") {
  TempTree dir;
  make_ca(dir.path("other.pem"), dir.path("other.key"), "other");
  CHECK_THROWS_AS(CertificateAuthority(ca_files().cert, dir.path("other.key")), std::runtime_error);
}
