// SPDX-License-Identifier: Apache-2.0
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

namespace {

// A token holding one imported key (so that "as before" is not "empty"), and a P-256 key with a
// self-signed certificate in a PEM bundle, planned for import.
struct Scene {
  SoftHsmToken t;
  std::string pem;
  PlanItem item;
  std::vector<std::string> before;
  Scene() {
    import_and_check(t, genkey(t, "other", "-algorithm ED25519"), t.path("other.pem"), false);
    pem = genkey(t, "p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
    sh("openssl req -new -x509 -key " + test::shell_quote(pem) + " -subj /CN=p256 -days 30 -out " +
       test::shell_quote(t.path("p256.crt")));
    sh("cat " + test::shell_quote(pem) + " " + test::shell_quote(t.path("p256.crt")) + " > " +
       test::shell_quote(t.path("bundle.pem")));
    item = approved_item("spki:" + spki_hex(pem), t.path("bundle.pem"), Strategy::import);
    before = t.objects();
  }
  ItemResult run(RunOptions o) {
    TokenSession session(config(t), common::SecretBytes::copy_of(t.pin()));
    return session.run(item, o);
  }
};

// Options whose on_stage throws at `at`.
RunOptions failing_at(Stage at) {
  RunOptions o = options_for_host();
  o.on_stage = [at](const std::string&, Stage s) {
    if (s == at) throw std::runtime_error("injected failure");
  };
  return o;
}

}  // namespace

TEST_CASE("idempotent: a second import changes nothing and is reported as skipped") {
  Scene s;
  REQUIRE(s.run(options_for_host()).outcome == Outcome::done);
  const auto after_first = s.t.objects();
  CHECK(after_first.size() == s.before.size() + 3);
  const ItemResult second = s.run(options_for_host());
  CHECK(second.outcome == Outcome::skipped);
  CHECK(second.key_id == s.item.identity.substr(5));
  CHECK(s.t.objects() == after_first);
}

TEST_CASE("all or nothing: a failure injected at create_certificate or verify leaves the token as before") {
  for (Stage at : {Stage::create_certificate, Stage::verify}) {
    Scene s;
    CAPTURE(to_string(at));
    const ItemResult r = s.run(failing_at(at));
    CHECK(r.outcome == Outcome::failed);
    CHECK(r.failed_at == at);
    CHECK(r.message.find("injected failure") != std::string::npos);
    CHECK(s.t.objects() == s.before);
    // Then it runs cleanly: the failure left nothing that makes it skip.
    CHECK(s.run(options_for_host()).outcome == Outcome::done);
  }
}

TEST_CASE("all or nothing: a regenerate failing at verify destroys the generated pair") {
  Scene s;
  s.item.strategy = Strategy::regenerate;
  s.item.algorithm = "ec-p384";
  const ItemResult r = s.run(failing_at(Stage::verify));
  CHECK(r.outcome == Outcome::failed);
  CHECK(r.failed_at == Stage::verify);
  CHECK(s.t.objects() == s.before);
}

TEST_CASE("all or nothing: a wrong key password fails at read_key, the token untouched, no password echoed") {
  Scene s;
  const std::string src = s.t.path("enc.pem");
  sh(export_env() + "openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + test::shell_quote(s.pem) + " -out " +
     test::shell_quote(src) + " -passout env:KW_TEST_PW");
  s.item.migrate_on.path = src;
  RunOptions o = options_for_host();
  o.key_password = common::SecretBytes::copy_of(std::string_view("not the password"));
  const ItemResult r = s.run(std::move(o));
  CHECK(r.outcome == Outcome::failed);
  CHECK(r.failed_at == Stage::read_key);
  CHECK(r.message.find("not the password") == std::string::npos);
  CHECK(s.t.objects() == s.before);
}

TEST_CASE("import refuses a file whose key is not the planned identity") {
  Scene s;
  s.item.migrate_on.path = s.t.path("other.pem");
  const ItemResult r = s.run(options_for_host());
  CHECK(r.outcome == Outcome::failed);
  CHECK(r.failed_at == Stage::read_key);
  CHECK(s.t.objects() == s.before);
}

TEST_CASE("only approved items of this host run: others are refused and the token is untouched") {
  Scene s;
  for (ItemState state : {ItemState::proposed, ItemState::refused, ItemState::done}) {
    s.item.state = state;
    CHECK(s.run(options_for_host()).outcome == Outcome::refused);
  }
  s.item.state = ItemState::approved;
  RunOptions other = options_for_host();
  other.host = "build-2";
  CHECK(s.run(std::move(other)).outcome == Outcome::refused);
  RunOptions regenerate_only = options_for_host();
  regenerate_only.allowed = {Strategy::regenerate};
  CHECK(s.run(std::move(regenerate_only)).outcome == Outcome::refused);
  s.item.blockers.push_back({"password-unknown", "the password is unknown"});
  CHECK(s.run(options_for_host()).outcome == Outcome::refused);
  CHECK(s.t.objects() == s.before);
}

TEST_CASE("dry run: says what would happen and changes nothing") {
  Scene s;
  RunOptions o = options_for_host();
  o.dry_run = true;
  o.remove_source = true;
  std::vector<std::string> said;
  o.say = [&](const std::string& line) { said.push_back(line); };
  const ItemResult r = s.run(std::move(o));
  CHECK(r.outcome == Outcome::dry_run);
  CHECK(r.actions == said);
  CHECK(std::any_of(said.begin(), said.end(), [&](const std::string& l) {
    return l.find("remove " + s.item.migrate_on.path) != std::string::npos;
  }));
  CHECK(s.t.objects() == s.before);
  CHECK(std::filesystem::exists(s.item.migrate_on.path));
}

TEST_CASE("remove-source: the file is removed only after verification succeeded") {
  Scene s;
  RunOptions o = failing_at(Stage::verify);
  o.remove_source = true;
  CHECK(s.run(std::move(o)).outcome == Outcome::failed);
  CHECK(std::filesystem::exists(s.item.migrate_on.path));
  RunOptions ok = options_for_host();
  ok.remove_source = true;
  const ItemResult r = s.run(std::move(ok));
  REQUIRE(r.outcome == Outcome::done);
  REQUIRE(r.cleanups.size() == 1);
  CHECK(r.cleanups[0].removed);
  CHECK_FALSE(std::filesystem::exists(s.item.migrate_on.path));
}

TEST_CASE("regenerate: a key pair made in the token and a CSR it signed, for each algorithm") {
  SoftHsmToken t;
  for (const char* alg : {"rsa-2048", "ec-p256", "ec-p384", "ed25519"}) {
    CAPTURE(alg);
    const std::string old = genkey(t, std::string("old-") + alg, "-algorithm ED25519");
    PlanItem item = approved_item("spki:" + spki_hex(old), old, Strategy::regenerate, alg);
    item.certificates.push_back({});
    item.certificates[0].subject = "CN=build.example, O=Example";
    TokenSession session(config(t), common::SecretBytes::copy_of(t.pin()));
    const ItemResult r = session.run(item, options_for_host());
    INFO(r.message);
    REQUIRE(r.outcome == Outcome::done);
    common::BioPtr bio(BIO_new_mem_buf(r.csr_pem.data(), static_cast<int>(r.csr_pem.size())));
    common::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(req);
    EVP_PKEY* csr_key = X509_REQ_get0_pubkey(req.get());
    CHECK(X509_REQ_verify(req.get(), csr_key) == 1);
    CHECK(keys::spki_sha256_hex(csr_key) == r.new_spki_sha256);
    CHECK(r.key_id == r.new_spki_sha256);
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, cn, sizeof cn);
    CHECK(std::string(cn) == "build.example");
    // The token's public key object (by CKA_ID) is the CSR's key.
    p11::Module module(test::kSoftHsmModule);
    const common::SecretBytes pin = common::SecretBytes::copy_of(t.pin());
    p11::Session s(module, t.label(), pin);
    const unsigned long cls = CKO_PUBLIC_KEY;
    bool matched = false;
    for (auto h : s.find({p11::attr(CKA_CLASS, &cls, sizeof cls)}))
      if (common::to_hex(s.get(h, CKA_ID)) == r.key_id)
        matched = keys::spki_sha256_hex(keys::token_public_key(s, h, keys::kind_of(csr_key)).get()) == r.key_id;
    CHECK(matched);
    CHECK(r.verification.signature_ok);
    CHECK_FALSE(r.verification.extractable);
    CHECK(r.verification.private_value_refused);
    CHECK(session.run(item, options_for_host()).outcome == Outcome::skipped);
  }
}

TEST_CASE("the PIN appears in no output, no result and no file of the test dir") {
  Scene s;
  std::string said;
  RunOptions o = options_for_host();
  o.say = [&](const std::string& line) { said += line + "\n"; };
  const ItemResult r = s.run(std::move(o));
  REQUIRE(r.outcome == Outcome::done);
  CHECK(said.find(s.t.pin()) == std::string::npos);
  CHECK(result_to_json(r).dump().find(s.t.pin()) == std::string::npos);
  for (const auto& e : std::filesystem::recursive_directory_iterator(s.t.dir()))
    if (e.is_regular_file()) CHECK(test::slurp(e.path()).find(s.t.pin()) == std::string::npos);
  // A wrong PIN: the error names the token, not the PIN given.
  const std::string wrong = "wrong-" + s.t.pin();
  try {
    TokenSession bad(config(s.t), common::SecretBytes::copy_of(wrong));
    FAIL("login with a wrong PIN succeeded");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("CKR_PIN_INCORRECT") != std::string::npos);
    CHECK(std::string(e.what()).find(wrong) == std::string::npos);
  }
}

TEST_CASE("a module that cannot be loaded or a token that is not there: errors that name them") {
  SoftHsmToken t;
  const auto pin = common::SecretBytes::copy_of(t.pin());
  CHECK_THROWS_WITH_AS(TokenSession({"/nonexistent/libnone.so", t.label()}, pin),
                       doctest::Contains("/nonexistent/libnone.so"), std::runtime_error);
  CHECK_THROWS_WITH_AS(TokenSession({test::kSoftHsmModule, "no-such-token"}, pin), doctest::Contains("no-such-token"),
                       std::runtime_error);
}

TEST_CASE("result JSON: every field round-trips, a bad outcome is refused") {
  ItemResult r;
  r.item_id = "0123456789abcdef", r.identity = "spki:ab", r.host = "h", r.strategy = Strategy::import;
  r.outcome = Outcome::skipped, r.message = "m", r.failed_at = Stage::make_csr, r.key_id = "ab", r.label = "l";
  r.csr_pem = "csr", r.new_spki_sha256 = "cd", r.actions = {"a", "b"}, r.started_at = "s", r.finished_at = "f";
  r.verification = {true, true, true, false, true, "CKM_EDDSA"};
  r.cleanups = {{"/p", false, "why"}, {"/srv/cl\xe9s.pem", true, ""}};  // the second is Latin-1
  const nlohmann::json j = result_to_json(r);
  CHECK(j["schema"] == kResultSchema);
  CHECK(result_to_json(result_from_json(j)) == j);
  CHECK_NOTHROW((void)j.dump());  // a path that is not UTF-8 is {"b64": ...}, never invalid JSON
  CHECK(result_from_json(nlohmann::json::parse(j.dump())).cleanups[1].path == r.cleanups[1].path);
  nlohmann::json bad = j;
  bad["outcome"] = "maybe";
  CHECK_THROWS_AS(result_from_json(bad), std::invalid_argument);
  bad = j;
  bad["verification"]["signature_ok"] = "yes";
  CHECK_THROWS_AS(result_from_json(bad), std::invalid_argument);
}

TEST_CASE("read_secret_source: env:VAR and file:PATH (one trailing newline dropped), nothing else") {
  SoftHsmToken t;
  ::setenv("KW_TEST_SECRET", "s3cret", 1);
  CHECK(read_secret_source("env:KW_TEST_SECRET").view() == "s3cret");
  std::ofstream(t.path("pin.txt")) << "p1n\n\n";
  CHECK(read_secret_source("file:" + t.path("pin.txt")).view() == "p1n\n");
  CHECK_THROWS_AS(read_secret_source("s3cret"), std::invalid_argument);
  ::unsetenv("KW_TEST_UNSET");
  CHECK_THROWS_WITH_AS(read_secret_source("env:KW_TEST_UNSET"), doctest::Contains("KW_TEST_UNSET"), std::runtime_error);
  CHECK_THROWS_AS(read_secret_source("file:" + t.path("missing")), std::runtime_error);
}

}  // namespace keyward::migrate
