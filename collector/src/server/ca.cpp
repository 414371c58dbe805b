// SPDX-License-Identifier: Apache-2.0
#include "server/ca.hpp"

#include <keyward/common/atomic_file.hpp>
#include <keyward/common/hex.hpp>
#include <keyward/common/openssl_handles.hpp>
#include <keyward/common/random.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace keyward::collector {
namespace {

using common::BioPtr;
using common::BnPtr;
using common::PkeyPtr;
using common::X509ExtPtr;
using common::X509Ptr;
using common::X509ReqPtr;

// The OpenSSL error queue as one line (drained), for messages.
std::string ssl_errors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + ssl_errors()); }

// OpenSSL must never prompt on a terminal: keys are unencrypted, any password request fails.
int no_password(char*, int, int, void*) { return -1; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string bio_string(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string key_pem(EVP_PKEY* k) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1) fail("cannot encode key");
  return bio_string(b.get());
}

std::string cert_pem(X509* c) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), c) != 1) fail("cannot encode certificate");
  return bio_string(b.get());
}

PkeyPtr new_ec_key() {
  PkeyPtr k(EVP_EC_gen("P-256"));
  if (!k) fail("cannot generate an EC P-256 key");
  return k;
}

X509Ptr load_cert(const std::string& path) {
  const std::string pem = read_file(path);
  ERR_clear_error();
  BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr c(PEM_read_bio_X509(b.get(), nullptr, no_password, nullptr));
  if (!c) fail(path + ": not a PEM certificate");
  return c;
}

PkeyPtr load_key(const std::string& path) {
  const std::string pem = read_file(path);
  ERR_clear_error();
  BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr k(PEM_read_bio_PrivateKey(b.get(), nullptr, no_password, nullptr));
  if (!k) fail(path + ": not an unencrypted PEM private key");
  return k;
}

std::string spki_sha256(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  if (n <= 0) fail("cannot encode a public key");
  std::string out = sha256_hex(der, static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail(std::string("cannot add extension ") + OBJ_nid2sn(nid));
}

void random_serial(X509* cert, std::string* hex_out) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) fail("the OpenSSL random generator failed");
  raw[0] &= 0x7f;  // positive (RFC 5280 4.1.2.2), at most 20 octets
  raw[0] |= 0x01;  // no leading zero, so the hex and DER agree
  BnPtr bn(BN_bin2bn(raw, sizeof raw, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) fail("cannot set a serial number");
  if (hex_out) {
    char* h = BN_bn2hex(bn.get());
    *hex_out = h;
    OPENSSL_free(h);
    for (char& c : *hex_out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
}

// A certificate skeleton: v3, random serial, validity from 5 minutes ago for `days`.
X509Ptr new_cert(EVP_PKEY* subject_key, long days, std::string* serial_hex) {
  X509Ptr c(X509_new());
  if (!c || X509_set_version(c.get(), 2) != 1) fail("cannot create a certificate");
  random_serial(c.get(), serial_hex);
  if (!X509_gmtime_adj(X509_getm_notBefore(c.get()), -300) ||
      !X509_time_adj_ex(X509_getm_notAfter(c.get()), static_cast<int>(days), 0, nullptr))
    fail("cannot set validity");
  if (X509_set_pubkey(c.get(), subject_key) != 1) fail("cannot set the public key");
  return c;
}

void set_cn(X509* c, const std::string& cn, bool issuer_too) {
  X509_NAME* name = X509_get_subject_name(c);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1)
    fail("cannot set the subject");
  if (issuer_too && X509_set_issuer_name(c, name) != 1) fail("cannot set the issuer");
}

void sign(X509* c, EVP_PKEY* key) {
  if (X509_sign(c, key, EVP_sha256()) <= 0) fail("cannot sign the certificate");
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

std::string sha256_hex(const void* data, std::size_t size) {
  return common::sha256_hex(std::string_view(static_cast<const char*>(data), size));
}

std::string random_hex(std::size_t n_bytes) { return common::random_hex(n_bytes); }

void make_ca(const std::string& cert_path, const std::string& key_path, const std::string& common_name) {
  auto key = new_ec_key();
  auto cert = new_cert(key.get(), 3653, nullptr);
  set_cn(cert.get(), common_name, true);
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), cert.get(), NID_authority_key_identifier, "keyid:always");
  sign(cert.get(), key.get());
  common::write_file_exclusive(key_path, key_pem(key.get()), 0600);
  common::write_file_exclusive(cert_path, cert_pem(cert.get()), 0644);
}

void make_server_certificate(const std::string& ca_cert_path, const std::string& ca_key_path,
                             const std::string& cert_path, const std::string& key_path,
                             const std::vector<std::string>& sans) {
  auto ca = load_cert(ca_cert_path);
  auto ca_key = load_key(ca_key_path);
  auto key = new_ec_key();
  auto cert = new_cert(key.get(), 825, nullptr);
  set_cn(cert.get(), sans.empty() ? std::string("keyward-collector") : sans.front(), false);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) != 1) fail("cannot set the issuer");
  add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (!sans.empty()) {
    std::string list;
    for (const auto& s : sans) {
      if (s.empty() || s.find_first_of(",\n\r") != std::string::npos)
        throw std::runtime_error("bad --san \"" + s + "\": a DNS name or an IP address");
      if (!list.empty()) list += ",";
      list += (is_ip(s) ? "IP:" : "DNS:") + s;
    }
    add_ext(cert.get(), ca.get(), NID_subject_alt_name, list.c_str());
  }
  sign(cert.get(), ca_key.get());
  common::write_file_exclusive(key_path, key_pem(key.get()), 0600);
  common::write_file_exclusive(cert_path, cert_pem(cert.get()), 0644);
}

std::string spki_sha256_of_file(const std::string& pem_path) {
  const std::string pem = read_file(pem_path);
  ERR_clear_error();
  BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (pem.find("CERTIFICATE-----") != std::string::npos) {
    X509Ptr c(PEM_read_bio_X509(b.get(), nullptr, no_password, nullptr));
    if (!c) fail(pem_path + ": not a PEM certificate");
    return spki_sha256(X509_get0_pubkey(c.get()));
  }
  PkeyPtr k(PEM_read_bio_PrivateKey(b.get(), nullptr, no_password, nullptr));
  if (!k) fail(pem_path + ": not an unencrypted PEM private key");
  return spki_sha256(k.get());
}

struct CertificateAuthority::Impl {
  X509Ptr cert;
  PkeyPtr key;
  std::string pem;
};

CertificateAuthority::CertificateAuthority(const std::string& ca_cert_path, const std::string& ca_key_path)
    : impl_(std::make_unique<Impl>()) {
  impl_->cert = load_cert(ca_cert_path);
  impl_->key = load_key(ca_key_path);
  ERR_clear_error();
  if (X509_check_private_key(impl_->cert.get(), impl_->key.get()) != 1)
    throw std::runtime_error(ca_key_path + ": this key does not belong to the CA certificate " + ca_cert_path);
  if (X509_check_ca(impl_->cert.get()) == 0)
    throw std::runtime_error(ca_cert_path + ": not a CA certificate (basicConstraints CA:TRUE is required)");
  impl_->pem = cert_pem(impl_->cert.get());
}

CertificateAuthority::~CertificateAuthority() = default;

const std::string& CertificateAuthority::ca_pem() const noexcept { return impl_->pem; }

boost::system::result<SignedAgent, CsrRefusal> CertificateAuthority::sign_agent_csr(const std::string& csr_pem) const {
  ERR_clear_error();
  BioPtr b(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  X509ReqPtr req(b ? PEM_read_bio_X509_REQ(b.get(), nullptr, no_password, nullptr) : nullptr);
  if (!req) {
    ERR_clear_error();
    return CsrRefusal{"csr is not a PEM certificate request (PKCS#10)"};
  }
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr) {
    ERR_clear_error();
    return CsrRefusal{"csr has no usable public key"};
  }
  if (X509_REQ_verify(req.get(), pub) != 1) {
    ERR_clear_error();
    return CsrRefusal{"csr signature does not verify (the request was not signed by its key)"};
  }
  const int bits = EVP_PKEY_get_bits(pub);
  switch (EVP_PKEY_get_base_id(pub)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      if (bits < 2048) return CsrRefusal{"csr key is RSA-" + std::to_string(bits) + "; at least RSA-2048 is required"};
      break;
    case EVP_PKEY_EC:
      if (bits < 256)
        return CsrRefusal{"csr key is a " + std::to_string(bits) + "-bit EC key; at least 256 bits is required"};
      break;
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      break;
    default:
      return CsrRefusal{"csr key type is not accepted (use EC P-256/P-384, Ed25519 or RSA-2048+)"};
  }
  // Failures below are the collector's (OpenSSL), not the requester's: they throw (500).
  SignedAgent out;
  {
    out.agent_id = random_hex(8);
    auto cert = new_cert(pub, 365, &out.serial_hex);
    set_cn(cert.get(), out.agent_id, false);
    if (X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get())) != 1) fail("cannot set the issuer");
    add_ext(cert.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), impl_->cert.get(), NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), impl_->cert.get(), NID_ext_key_usage, "clientAuth");
    add_ext(cert.get(), impl_->cert.get(), NID_subject_key_identifier, "hash");
    add_ext(cert.get(), impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
    sign(cert.get(), impl_->key.get());
    out.cert_pem = cert_pem(cert.get());
    unsigned char* der = nullptr;
    int n = i2d_X509(cert.get(), &der);
    if (n <= 0) fail("cannot encode the certificate");
    out.cert_sha256 = sha256_hex(der, static_cast<std::size_t>(n));
    OPENSSL_free(der);
    out.spki_sha256 = spki_sha256(pub);
  }
  return out;
}

}  // namespace keyward::collector
