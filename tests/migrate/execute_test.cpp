// TokenSession::run on a real SoftHSM2 token in a temp dir (softhsm_fixture.hpp), with keys
// generated now by `openssl genpkey`: import of each algorithm and format, regenerate with a CSR
// signed in the token, idempotency, rollback of a failure injected mid-item, refusal of an item
// not approved, dry run, remove-source, and the PIN in no output and no file.
#include "migrate/softhsm_fixture.hpp"
#include "pkcs11.hpp"
#include "support/generated_dir.hpp"
#include "token_keys.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/migrate/execute.hpp>

#include <doctest/doctest.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace keyward::migrate {
namespace {

using test::sh;
using test::SoftHsmToken;

constexpr const char* kHost = "build-1";
constexpr const char* kPassword = "correct horse battery";  // the test keys' password

// `openssl genpkey` into NAME.pem (PKCS#8) in the token's dir; returns its path.
std::string genkey(const SoftHsmToken& t, const std::string& name, const std::string& alg) {
  const std::string path = t.path(name + ".pem");
  sh("openssl genpkey " + alg + " -out " + test::shell_quote(path) + " 2>/dev/null");
  return path;
}

// The key's SPKI SHA-256 by the openssl command (independently of the executor).
std::string spki_hex(const std::string& pem) {
  sh("openssl pkey -in " + test::shell_quote(pem) + " -pubout -outform DER -out " + test::shell_quote(pem + ".spki"));
  return common::sha256_hex(test::slurp(pem + ".spki"));
}

common::PkeyPtr public_key_of(const std::string& pem) {
  sh("openssl pkey -in " + test::shell_quote(pem) + " -pubout -out " + test::shell_quote(pem + ".pub"));
  common::BioPtr bio(BIO_new_file((pem + ".pub").c_str(), "r"));
  return common::PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

PlanItem approved_item(const std::string& identity, const std::string& path, Strategy strategy,
                       const std::string& algorithm = {}) {
  PlanItem item;
  item.id = identity.substr(5, 16);
  item.identity = identity;
  item.strategy = strategy;
  item.algorithm = algorithm;
  item.state = ItemState::approved;
  item.target = {"softhsm2", "keyward-test", "kw-" + item.id, "test"};
  item.migrate_on.host = kHost;
  item.migrate_on.path = path;
  item.places = {item.migrate_on};
  item.requested_by = "analyst", item.approved_by = "approver";
  return item;
}

RunOptions options_for_host() {
  RunOptions o;
  o.host = kHost;
  return o;
}

TokenConfig config(const SoftHsmToken& t) { return {test::kSoftHsmModule, t.label()}; }

// Reads the imported key back independently: not extractable, private value refused, and a
// challenge signed in the token verifies with the key's public half in OpenSSL.
void check_in_token(const SoftHsmToken& t, const std::string& id_hex, const std::string& pem) {
  p11::Module module(test::kSoftHsmModule);
  const common::SecretBytes pin = common::SecretBytes::copy_of(t.pin());
  p11::Session s(module, t.label(), pin);
  const unsigned long cls = CKO_PRIVATE_KEY;
  std::optional<ck_object_handle_t> key;
  for (auto h : s.find({p11::attr(CKA_CLASS, &cls, sizeof cls)}))
    if (common::to_hex(s.get(h, CKA_ID)) == id_hex) key = h;
  REQUIRE(key);
  CHECK_FALSE(s.get_bool(*key, CKA_EXTRACTABLE));
  CHECK(s.get_bool(*key, CKA_SENSITIVE));
  const common::PkeyPtr pub = public_key_of(pem);
  const keys::Kind kind = keys::kind_of(pub.get());
  CHECK(s.try_get(*key, kind == keys::Kind::rsa ? CKA_PRIVATE_EXPONENT : CKA_VALUE) == CKR_ATTRIBUTE_SENSITIVE);
  const std::string challenge = "challenge " + id_hex;
  const std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(challenge.data()), challenge.size());
  const auto sig = keys::token_sign(s, *key, kind, data);
  CHECK(keys::openssl_verify(pub.get(), kind, data, sig));
}

struct Imported {
  ItemResult result;
  std::vector<std::string> objects;
};

Imported import_and_check(const SoftHsmToken& t, const std::string& pem, const std::string& source, bool with_password,
                          std::vector<CertSummary> certs = {}) {
  const std::string identity = "spki:" + spki_hex(pem);
  PlanItem item = approved_item(identity, source, Strategy::import);
  item.certificates = std::move(certs);
  RunOptions o = options_for_host();
  if (with_password) o.key_password = common::SecretBytes::copy_of(std::string_view(kPassword));
  TokenSession session(config(t), common::SecretBytes::copy_of(t.pin()));
  Imported out{session.run(item, o), {}};
  INFO(out.result.message);
  REQUIRE(out.result.outcome == Outcome::done);
  CHECK(out.result.key_id == identity.substr(5));
  CHECK(out.result.verification.signature_ok);
  CHECK(out.result.verification.public_key_matches);
  CHECK(out.result.verification.sensitive);
  CHECK_FALSE(out.result.verification.extractable);
  CHECK(out.result.verification.private_value_refused);
  check_in_token(t, identity.substr(5), pem);
  out.objects = t.objects();
  return out;
}

std::size_t certificates_in(const std::vector<std::string>& objects) {
  return static_cast<std::size_t>(
      std::count_if(objects.begin(), objects.end(), [](const std::string& o) { return o.starts_with("0100"); }));
}

std::string export_env() { return std::string("KW_TEST_PW=") + test::shell_quote(kPassword) + " "; }

}  // namespace

TEST_CASE("import: RSA-2048 from an encrypted PKCS#8 PEM (password from the options), verified in the token") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "rsa2048", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
  const std::string src = t.path("rsa2048-enc.pem");
  sh(export_env() + "openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + test::shell_quote(pem) + " -out " +
     test::shell_quote(src) + " -passout env:KW_TEST_PW");
  const auto r = import_and_check(t, pem, src, true);
  CHECK(r.result.verification.mechanism == "CKM_SHA256_RSA_PKCS");
  CHECK(r.objects.size() == 2);  // the private and the public key
}

TEST_CASE("import: RSA-3072 from a traditional PEM") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "rsa3072", "-algorithm RSA -pkeyopt rsa_keygen_bits:3072");
  const std::string src = t.path("rsa3072-trad.pem");
  sh("openssl pkey -traditional -in " + test::shell_quote(pem) + " -out " + test::shell_quote(src));
  import_and_check(t, pem, src, false);
}

TEST_CASE("import: RSA-4096 from DER PKCS#8") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "rsa4096", "-algorithm RSA -pkeyopt rsa_keygen_bits:4096");
  const std::string src = t.path("rsa4096.der");
  sh("openssl pkey -in " + test::shell_quote(pem) + " -outform DER -out " + test::shell_quote(src));
  import_and_check(t, pem, src, false);
}

TEST_CASE("import: EC P-256 from PKCS#12 with its certificate, which becomes a certificate object") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
  const std::string cert = t.path("p256.crt"), src = t.path("p256.p12");
  sh("openssl req -new -x509 -key " + test::shell_quote(pem) + " -subj /CN=p256 -days 30 -out " +
     test::shell_quote(cert));
  sh(export_env() + "openssl pkcs12 -export -inkey " + test::shell_quote(pem) + " -in " + test::shell_quote(cert) +
     " -out " + test::shell_quote(src) + " -passout env:KW_TEST_PW");
  const auto r = import_and_check(t, pem, src, true);
  CHECK(r.result.verification.mechanism == "CKM_ECDSA");
  CHECK(certificates_in(r.objects) == 1);
  CHECK(r.objects.size() == 3);
}

TEST_CASE("import: EC P-384 from PEM, with the planned certificate found beside it") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384");
  sh("openssl req -new -x509 -key " + test::shell_quote(pem) + " -subj /CN=p384 -days 30 -out " +
     test::shell_quote(t.path("p384.crt")));
  sh("openssl x509 -in " + test::shell_quote(t.path("p384.crt")) + " -outform DER -out " +
     test::shell_quote(t.path("p384.cer.bin")));
  CertSummary planned;
  planned.sha256 = common::sha256_hex(test::slurp(t.path("p384.cer.bin")));
  const auto with_cert = import_and_check(t, pem, pem, false, {planned});
  CHECK(certificates_in(with_cert.objects) == 1);
}

TEST_CASE("import: a certificate beside the key that the plan does not name is not imported") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384");
  sh("openssl req -new -x509 -key " + test::shell_quote(pem) + " -subj /CN=p384 -days 30 -out " +
     test::shell_quote(t.path("p384.crt")));
  CertSummary other;
  other.sha256 = std::string(64, 'a');
  CHECK(certificates_in(import_and_check(t, pem, pem, false, {other}).objects) == 0);
}

TEST_CASE("import: Ed25519 (CKK_EC_EDWARDS, CKM_EDDSA)") {
  SoftHsmToken t;
  const std::string pem = genkey(t, "ed25519", "-algorithm ED25519");
  const auto r = import_and_check(t, pem, pem, false);
  CHECK(r.result.verification.mechanism == "CKM_EDDSA");
}

}  // namespace keyward::migrate
