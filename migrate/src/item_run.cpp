// SPDX-License-Identifier: Apache-2.0
#include "item_run.hpp"

#include <keyward/common/hex.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace keyward::migrate::exec {
namespace {

using Bytes = std::vector<std::uint8_t>;
const unsigned long kClassPrivate = CKO_PRIVATE_KEY, kClassCert = CKO_CERTIFICATE, kCertX509 = CKC_X_509;

// The common attributes of a private key: on the token, private, sensitive, never extractable,
// sign-only.
void private_flags(std::vector<ck_attribute>& a, keys::Kind kind) {
  a.push_back(p11::attr_bool(CKA_TOKEN, true));
  a.push_back(p11::attr_bool(CKA_PRIVATE, true));
  a.push_back(p11::attr_bool(CKA_SENSITIVE, true));
  a.push_back(p11::attr_bool(CKA_EXTRACTABLE, false));
  a.push_back(p11::attr_bool(CKA_SIGN, true));
  if (kind == keys::Kind::rsa) a.push_back(p11::attr_bool(CKA_DECRYPT, false));
  a.push_back(p11::attr_bool(CKA_UNWRAP, false));
  a.push_back(p11::attr_bool(CKA_DERIVE, false));
}

void public_flags(std::vector<ck_attribute>& a, keys::Kind kind) {
  a.push_back(p11::attr_bool(CKA_TOKEN, true));
  a.push_back(p11::attr_bool(CKA_PRIVATE, false));
  a.push_back(p11::attr_bool(CKA_VERIFY, true));
  if (kind == keys::Kind::rsa) a.push_back(p11::attr_bool(CKA_ENCRYPT, false));
  a.push_back(p11::attr_bool(CKA_WRAP, false));
}

template <class T, int (*I2d)(const T*, unsigned char**)>
Bytes der_of(const T* x) {
  unsigned char* der = nullptr;
  const int n = I2d(x, &der);
  if (n <= 0) throw std::runtime_error("cannot encode the certificate");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string overwrite_and_remove(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  struct stat st {};
  std::string err;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) err = "not a regular file";
  const std::array<char, 4096> zeros{};
  for (off_t done = 0; err.empty() && done < st.st_size;) {
    const auto n =
        ::write(fd, zeros.data(), static_cast<std::size_t>(std::min<off_t>(zeros.size(), st.st_size - done)));
    if (n <= 0) err = std::strerror(errno);
    done += n;
  }
  if (err.empty() && ::fsync(fd) != 0) err = std::strerror(errno);
  ::close(fd);
  if (err.empty() && ::unlink(path.c_str()) != 0) err = std::strerror(errno);
  return err;
}

std::string object_label(const PlanItem& item) {
  if (!item.target.label.empty()) return item.target.label;
  const auto colon = item.identity.find(':');
  return "keyward-" + item.identity.substr(colon == std::string::npos ? 0 : colon + 1, 16);
}

void ItemRun::enter(Stage st) {
  stage = st;
  if (o_.on_stage) o_.on_stage(item_.id, st);
}

void ItemRun::act(const std::string& line) {
  r_.actions.push_back(line);
  say(line);
}

// The item's key in the token already: by CKA_ID (import: the identity's SPKI hash) or by label
// (regenerate: the new key's identity is not known before it exists).
std::optional<ck_object_handle_t> ItemRun::existing() {
  const auto colon = item_.identity.find(':');
  const std::string id_hex = item_.identity.substr(colon == std::string::npos ? 0 : colon + 1);
  for (ck_object_handle_t h : s_.find({p11::attr(CKA_CLASS, &kClassPrivate, sizeof kClassPrivate)})) {
    const std::string id = common::to_hex(s_.get(h, CKA_ID));
    const Bytes label = s_.get(h, CKA_LABEL);
    const bool same =
        item_.strategy == Strategy::import ? id == id_hex : std::string(label.begin(), label.end()) == r_.label;
    if (!same) continue;
    r_.key_id = id;
    return h;
  }
  return std::nullopt;
}

void ItemRun::execute() {
  enter(Stage::check);
  if (existing()) {
    r_.outcome = Outcome::skipped;
    r_.message = fmt::format("already in token: a private key with {} exists; nothing changed",
                             item_.strategy == Strategy::import ? "CKA_ID " + r_.key_id : "label " + r_.label);
    act(r_.message);
    return;
  }
  if (o_.dry_run) return describe();
  if (item_.strategy == Strategy::import) import_key();
  else regenerate_key();
  if (o_.remove_source) enter(Stage::cleanup);
  created.keep();
  r_.outcome = Outcome::done;
  r_.message = fmt::format("{} done and verified in the token (label {}, CKA_ID {})", to_string(item_.strategy),
                           r_.label, r_.key_id);
  if (o_.remove_source) remove_sources();
}

void ItemRun::describe() {
  const std::string& path = item_.migrate_on.path;
  if (item_.strategy == Strategy::import) {
    act(fmt::format("would read the key in {}", path));
    act(fmt::format("would create a private key (sensitive, not extractable, sign only) labelled {} with CKA_ID {}",
                    r_.label, item_.identity.substr(item_.identity.find(':') + 1)));
    act("would create its public key object, and a certificate object if its certificate is readable");
  } else {
    act(fmt::format("would generate a {} key pair in the token labelled {}", item_.algorithm, r_.label));
    act("would make a CSR for the new key, signed in the token");
  }
  act("would sign a random challenge in the token and verify it with OpenSSL, and read back its attributes");
  if (o_.remove_source)
    for (const auto& p : item_.places)
      if (p.host == o_.host) act(fmt::format("would overwrite and remove {}", p.path));
  r_.outcome = Outcome::dry_run;
  r_.message = "dry run: nothing changed";
}

void ItemRun::import_key() {
  enter(Stage::read_key);
  keys::SourceKey src = keys::read_key_file(item_.migrate_on.path, o_.key_password);
  const keys::Kind kind = keys::kind_of(src.key.get());
  const Bytes spki = keys::spki_der(src.key.get());
  const std::string id_raw = common::sha256_raw(spki);
  r_.key_id = common::to_hex(id_raw);
  if ("spki:" + r_.key_id != item_.identity)
    throw std::runtime_error(
        fmt::format("the key in {} is not the planned key (its identity changed)", item_.migrate_on.path));
  common::X509Ptr cert = find_certificate(src, spki);
  act(fmt::format("read the key in {}", item_.migrate_on.path));
  enter(Stage::create_key);
  ck_object_handle_t priv = 0;
  {
    keys::PrivateTemplate t = keys::private_parts(src.key.get(), kind);
    private_flags(t.attrs, kind);
    t.attrs.push_back(p11::attr(CKA_ID, id_raw.data(), id_raw.size()));
    t.attrs.push_back(p11::attr(CKA_LABEL, r_.label.data(), r_.label.size()));
    priv = s_.create(t.attrs);
    created.add(priv);
  }
  std::vector<Bytes> store;
  std::vector<ck_attribute> pub_t = keys::public_parts(src.key.get(), kind, store);
  public_flags(pub_t, kind);
  pub_t.push_back(p11::attr(CKA_ID, id_raw.data(), id_raw.size()));
  pub_t.push_back(p11::attr(CKA_LABEL, r_.label.data(), r_.label.size()));
  const ck_object_handle_t pub = s_.create(pub_t);
  created.add(pub);
  act(fmt::format("created the private key (sensitive, not extractable, sign only) and its public key, label {}",
                  r_.label));
  if (cert) import_certificate(cert.get(), id_raw);
  enter(Stage::verify);
  verify(priv, pub, kind, cert ? X509_get0_pubkey(cert.get()) : src.key.get());
}

ck_object_handle_t ItemRun::import_certificate(X509* cert, const std::string& id_raw) {
  enter(Stage::create_certificate);
  const Bytes value = der_of<X509, i2d_X509>(cert);
  const Bytes subject = der_of<X509_NAME, i2d_X509_NAME>(X509_get_subject_name(cert));
  const Bytes issuer = der_of<X509_NAME, i2d_X509_NAME>(X509_get_issuer_name(cert));
  const Bytes serial = der_of<ASN1_INTEGER, i2d_ASN1_INTEGER>(X509_get0_serialNumber(cert));
  const ck_object_handle_t h = s_.create({
      p11::attr(CKA_CLASS, &kClassCert, sizeof kClassCert),
      p11::attr(CKA_CERTIFICATE_TYPE, &kCertX509, sizeof kCertX509),
      p11::attr_bool(CKA_TOKEN, true),
      p11::attr_bool(CKA_PRIVATE, false),
      p11::attr(CKA_ID, id_raw.data(), id_raw.size()),
      p11::attr(CKA_LABEL, r_.label.data(), r_.label.size()),
      p11::attr(CKA_SUBJECT, subject.data(), subject.size()),
      p11::attr(CKA_ISSUER, issuer.data(), issuer.size()),
      p11::attr(CKA_SERIAL_NUMBER, serial.data(), serial.size()),
      p11::attr(CKA_VALUE, value.data(), value.size()),
  });
  created.add(h);
  act(fmt::format("created the certificate object (sha256 {})", common::sha256_hex(value)));
  return h;
}

// The key's certificate: in the key's file (PEM bundle, PKCS#12), else a certificate file beside
// it whose SHA-256 the plan names; always one whose public key is the key's.
common::X509Ptr ItemRun::find_certificate(keys::SourceKey& src, const Bytes& spki) const {
  for (auto& c : src.certificates)
    if (keys::spki_der(X509_get0_pubkey(c.get())) == spki) return std::move(c);
  if (item_.certificates.empty()) return {};
  std::error_code ec;
  const auto dir = std::filesystem::path(item_.migrate_on.path).parent_path();
  for (const auto& e : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
    const auto ext = e.path().extension().string();
    if (!e.is_regular_file(ec) || e.file_size(ec) > (1u << 20)) continue;
    if (ext != ".crt" && ext != ".cer" && ext != ".pem" && ext != ".der" && ext != ".cert") continue;
    for (auto& c : keys::read_certificates(e.path().string())) {
      const std::string sha = common::sha256_hex(der_of<X509, i2d_X509>(c.get()));
      const bool planned = std::any_of(item_.certificates.begin(), item_.certificates.end(),
                                       [&](const CertSummary& s) { return s.sha256 == sha; });
      if (planned && keys::spki_der(X509_get0_pubkey(c.get())) == spki) return std::move(c);
    }
  }
  return {};
}

void ItemRun::regenerate_key() {
  enter(Stage::create_key);
  const keys::Spec spec = keys::spec_of(item_.algorithm);
  std::vector<ck_attribute> pub_t = keys::generation_parts(spec), priv_t;
  public_flags(pub_t, spec.kind);
  private_flags(priv_t, spec.kind);
  for (auto* t : {&pub_t, &priv_t}) t->push_back(p11::attr(CKA_LABEL, r_.label.data(), r_.label.size()));
  const auto kp = s_.generate(keys::generation_mechanism(spec.kind), pub_t, priv_t);
  created.add(kp.priv), created.add(kp.pub);
  const common::PkeyPtr token_pub = keys::token_public_key(s_, kp.pub, spec.kind);
  const std::string id_raw = common::sha256_raw(keys::spki_der(token_pub.get()));
  for (auto h : {kp.pub, kp.priv}) s_.set(h, {p11::attr(CKA_ID, id_raw.data(), id_raw.size())});
  r_.key_id = r_.new_spki_sha256 = common::to_hex(id_raw);
  act(fmt::format("generated a {} key pair in the token, label {}, CKA_ID {}", item_.algorithm, r_.label, r_.key_id));
  enter(Stage::make_csr);
  const std::string subject = item_.certificates.empty() ? std::string() : item_.certificates.front().subject;
  common::X509ReqPtr req = keys::make_csr(s_, kp.priv, token_pub.get(), spec.kind, subject, r_.label);
  if (X509_REQ_verify(req.get(), token_pub.get()) != 1)
    throw std::runtime_error("the CSR signed in the token does not verify");
  r_.csr_pem = keys::csr_pem(req.get());
  act("made a CSR for the new key, signed in the token (its signature verifies)");
  enter(Stage::verify);
  verify(kp.priv, kp.pub, spec.kind, X509_REQ_get0_pubkey(req.get()));
}

void ItemRun::verify(ck_object_handle_t priv, ck_object_handle_t pub, keys::Kind kind, EVP_PKEY* reference) {
  Verification& v = r_.verification;
  std::array<std::uint8_t, 32> challenge{};
  if (RAND_bytes(challenge.data(), challenge.size()) != 1) throw std::runtime_error("no random challenge");
  const Bytes sig = keys::token_sign(s_, priv, kind, challenge);
  v.mechanism = keys::mechanism_name(kind);
  v.signature_ok = keys::openssl_verify(reference, kind, challenge, sig);
  const common::PkeyPtr token_pub = keys::token_public_key(s_, pub, kind);
  v.public_key_matches = keys::spki_der(token_pub.get()) == keys::spki_der(reference);
  v.sensitive = s_.get_bool(priv, CKA_SENSITIVE);
  v.extractable = s_.get_bool(priv, CKA_EXTRACTABLE);
  const ck_attribute_type_t secret = kind == keys::Kind::rsa ? CKA_PRIVATE_EXPONENT : CKA_VALUE;
  v.private_value_refused = s_.try_get(priv, secret) == CKR_ATTRIBUTE_SENSITIVE;
  act(fmt::format(
      "verified: challenge signed in the token with {} {} by OpenSSL; public key {}; sensitive {}, "
      "extractable {}, private value {}",
      v.mechanism, v.signature_ok ? "verified" : "NOT verified", v.public_key_matches ? "matches" : "DIFFERS",
      v.sensitive, v.extractable, v.private_value_refused ? "refused" : "READABLE"));
  if (!v.signature_ok || !v.public_key_matches || !v.sensitive || v.extractable || !v.private_value_refused)
    throw std::runtime_error("verification failed");
}

void ItemRun::remove_sources() {
  for (const auto& p : item_.places) {
    if (p.host != o_.host) continue;
    Cleanup c{p.path, false, {}};
    if (!p.member.empty()) c.error = "the key is inside an archive or store (" + p.member + "): remove it by hand";
    else c.error = overwrite_and_remove(p.path);
    c.removed = c.error.empty();
    act(c.removed ? fmt::format("overwrote and removed {}", p.path)
                  : fmt::format("could not remove {}: {}", p.path, c.error));
    r_.cleanups.push_back(std::move(c));
  }
}

}  // namespace keyward::migrate::exec
