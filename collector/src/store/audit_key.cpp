// SPDX-License-Identifier: Apache-2.0
// The audit key (Ed25519, RFC 8032) through OpenSSL's EVP one-shot signatures; checkpoints as
// events-file lines.
#include <keyward/collector/audit_key.hpp>

#include <keyward/common/atomic_file.hpp>
#include <keyward/common/base64.hpp>
#include <keyward/common/hex.hpp>
#include <keyward/common/openssl_handles.hpp>

#include <fmt/format.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <array>
#include <fstream>
#include <stdexcept>

#include <sys/stat.h>

namespace keyward::collector {
namespace {

using common::BioPtr;
using common::MdCtxPtr;
using common::PkeyPtr;
using json = nlohmann::json;

constexpr std::size_t kSignatureBytes = 64;  // RFC 8032 section 5.1.6

[[noreturn]] void fail(const std::string& what) {
  ERR_clear_error();
  throw std::runtime_error(what);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot read");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// 16 hex digits of the SHA-256 of the raw public key.
std::string key_id_of(EVP_PKEY* key) {
  std::array<std::uint8_t, 32> raw{};
  std::size_t n = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &n) != 1 || n != raw.size())
    fail("the audit key is not an Ed25519 key");
  return common::sha256_hex(std::span<const std::uint8_t>(raw.data(), n)).substr(0, 16);
}

// A PEM password callback that supplies none: an encrypted key fails instead of prompting.
int no_password(char*, int, int, void*) { return 0; }

bool is_ed25519(EVP_PKEY* key) { return key != nullptr && EVP_PKEY_is_a(key, "ED25519") == 1; }

bool is_hex(const std::string& s, std::size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string public_pem_of(EVP_PKEY* key) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PUBKEY(b.get(), key) != 1) fail("cannot encode the audit public key");
  return bio_text(b.get());
}

}  // namespace

std::string checkpoint_signed_text(const AuditCheckpoint& c) {
  return fmt::format("keyward.audit-checkpoint/v1\nseq {}\nhash {}\ntime {}\nkey_id {}\n", c.seq, c.hash, c.time,
                     c.key_id);
}

json to_json(const AuditCheckpoint& c) {
  return json{{"type", kCheckpointType}, {"audit_seq", c.seq}, {"audit_hash", c.hash},
              {"time", c.time},          {"key_id", c.key_id}, {"signature", c.signature}};
}

std::optional<AuditCheckpoint> checkpoint_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto seq = j.find("audit_seq");
  auto hash = j.find("audit_hash");
  auto time = j.find("time");
  auto key = j.find("key_id");
  auto sig = j.find("signature");
  if (seq == j.end() || !seq->is_number_unsigned() || hash == j.end() || !hash->is_string() || time == j.end() ||
      !time->is_number_integer() || key == j.end() || !key->is_string() || sig == j.end() || !sig->is_string())
    return std::nullopt;
  AuditCheckpoint c{seq->get<std::uint64_t>(), hash->get<std::string>(), time->get<std::int64_t>(),
                    key->get<std::string>(), sig->get<std::string>()};
  const auto raw = common::base64_decode(c.signature);
  if (c.seq == 0 || !is_hex(c.hash, 64) || !is_hex(c.key_id, 16) || !raw || raw->size() != kSignatureBytes)
    return std::nullopt;
  return c;
}

CheckpointLines read_checkpoint_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot read the checkpoints");
  CheckpointLines out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    // Cheap test first: most lines are events.
    if (line.find(kCheckpointType) == std::string::npos) continue;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != kCheckpointType) {
      if (j.is_discarded() && out.malformed_line == 0) out.malformed_line = n;
      continue;
    }
    auto c = checkpoint_from_json(j);
    if (!c) {
      if (out.malformed_line == 0) out.malformed_line = n;
      continue;
    }
    out.checkpoints.push_back(std::move(*c));
    out.line_numbers.push_back(n);
  }
  return out;
}

// ---- the private key ---------------------------------------------------------------------------

struct AuditSigningKey::Impl {
  PkeyPtr key;
  std::string key_id;
};

AuditSigningKey::AuditSigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuditSigningKey::~AuditSigningKey() = default;

void AuditSigningKey::create(const std::string& key_path, const std::string& public_path) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) fail("cannot make an Ed25519 audit key");
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot encode the audit key");
  std::string pem = bio_text(b.get());
  try {
    common::write_file_exclusive(key_path, pem, 0600);
  } catch (...) {
    OPENSSL_cleanse(pem.data(), pem.size());
    throw;
  }
  OPENSSL_cleanse(pem.data(), pem.size());
  common::write_file_atomic(public_path, public_pem_of(key.get()), 0644);
}

std::shared_ptr<const AuditSigningKey> AuditSigningKey::load(const std::string& key_path) {
  struct stat st {};
  if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && ::chmod(key_path.c_str(), 0600) != 0)
    fail(key_path + ": readable by others and cannot be made 0600");
  std::string pem = read_file(key_path);
  BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(b ? PEM_read_bio_PrivateKey(b.get(), nullptr, no_password, nullptr) : nullptr);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!is_ed25519(key.get())) fail(key_path + ": not an unencrypted PEM Ed25519 private key (the audit key)");
  auto impl = std::make_unique<Impl>();
  impl->key_id = key_id_of(key.get());
  impl->key = std::move(key);
  return std::shared_ptr<const AuditSigningKey>(new AuditSigningKey(std::move(impl)));
}

AuditCheckpoint AuditSigningKey::sign(const AuditHead& head, std::int64_t time) const {
  AuditCheckpoint c{head.seq, head.hash, time, impl_->key_id, {}};
  const std::string text = checkpoint_signed_text(c);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<std::uint8_t, kSignatureBytes> sig{};
  std::size_t n = sig.size();
  // Ed25519 signs the message itself: no digest is named (EVP_DigestSignInit(3), "Ed25519").
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &n, reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1)
    fail("cannot sign the audit checkpoint");
  c.signature = common::base64_encode(std::span<const std::uint8_t>(sig.data(), n));
  return c;
}

const std::string& AuditSigningKey::key_id() const { return impl_->key_id; }

std::string AuditSigningKey::public_pem() const { return public_pem_of(impl_->key.get()); }

// ---- the public key ----------------------------------------------------------------------------

struct AuditVerifyKey::Impl {
  PkeyPtr key;
  std::string key_id;
};

AuditVerifyKey::AuditVerifyKey(const std::string& public_path) : impl_(std::make_unique<Impl>()) {
  const std::string pem = read_file(public_path);
  BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  impl_->key.reset(b ? PEM_read_bio_PUBKEY(b.get(), nullptr, no_password, nullptr) : nullptr);
  if (!is_ed25519(impl_->key.get())) fail(public_path + ": not a PEM Ed25519 public key (the audit public key)");
  impl_->key_id = key_id_of(impl_->key.get());
}

AuditVerifyKey::~AuditVerifyKey() = default;

bool AuditVerifyKey::verify(const AuditCheckpoint& c) const {
  if (c.key_id != impl_->key_id) return false;
  const auto sig = common::base64_decode(c.signature);
  if (!sig || sig->size() != kSignatureBytes) return false;
  const std::string text = checkpoint_signed_text(c);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig->data(), sig->size(),
                                   reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
  ERR_clear_error();
  return ok;
}

const std::string& AuditVerifyKey::key_id() const { return impl_->key_id; }

}  // namespace keyward::collector
