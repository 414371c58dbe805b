#include "enroll.hpp"
#include "fs_util.hpp"

#include "tls_fixture.hpp"

#include <doctest/doctest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>

using namespace keyward::agent;

TEST_CASE("the agent key is EC P-256 made on the host and the CSR carries the host name") {
  const KeyAndCsr kc = make_key_and_csr("build-01.example");
  CHECK(kc.key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  BIO* b = BIO_new_mem_buf(kc.csr_pem.data(), static_cast<int>(kc.csr_pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  REQUIRE(req != nullptr);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req);
  CHECK(X509_REQ_verify(req, pub) == 1);
  CHECK(EVP_PKEY_get_bits(pub) == 256);
  CHECK(EVP_PKEY_is_a(pub, "EC") == 1);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "build-01.example");
  X509_REQ_free(req);
}

TEST_CASE("an existing enrollment is not overwritten without force") {
  keyward::test::TempTree t;
  const auto& pki = keyward::test::TestPki::get();
  t.write("state/agent.key", "existing", 0600);
  EnrollOptions o;
  o.collector = "https://127.0.0.1:1";
  o.token = "kwe_secret_token_value";
  o.ca = pki.path("ca.pem");
  o.state_dir = t.path("state");
  try {
    enroll(o);
    FAIL("enroll should refuse");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("--force") != std::string::npos);
    CHECK(std::string(e.what()).find("kwe_secret") == std::string::npos);
  }
  CHECK(read_file(t.path("state/agent.key")) == "existing");
  CHECK_THROWS(write_file_exclusive(t.path("state/agent.key"), "x", 0600));
}

TEST_CASE("a failed enrollment leaves no key behind and never shows the token") {
  keyward::test::TempTree t;
  const auto& pki = keyward::test::TestPki::get();
  EnrollOptions o;
  o.collector = "https://127.0.0.1:" + std::to_string(keyward::test::free_port());
  o.token = "kwe_secret_token_value";
  o.ca = pki.path("ca.pem");
  o.state_dir = t.path("state");
  o.config_out = t.path("agent.yaml");
  try {
    enroll(o);
    FAIL("enroll should fail: nothing listens");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("kwe_secret") == std::string::npos);
  }
  struct stat st {};
  CHECK(::stat(t.path("state/agent.key").c_str(), &st) != 0);
  CHECK(::stat(t.path("agent.yaml").c_str(), &st) != 0);
  REQUIRE(::stat(t.path("state").c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
}
