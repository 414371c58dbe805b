// SPDX-License-Identifier: Apache-2.0
#include "enroll.hpp"

#include "fs_util.hpp"
#include "tls_client.hpp"
#include "url.hpp"

#include <keyward/common/openssl_errors.hpp>
#include <keyward/common/openssl_handles.hpp>
#include <keyward/protocol/protocol.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <climits>
#include <memory>
#include <stdexcept>
#include <vector>

namespace keyward::agent {
namespace {

using common::BioPtr;
using common::PkeyPtr;
using common::X509Ptr;
using common::X509ReqPtr;

[[noreturn]] void openssl_fail(const std::string& what) {
  const std::string why = common::drain_openssl_errors();
  throw std::runtime_error(what + (why.empty() ? "" : ": " + why));
}

std::string_view bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return {data, static_cast<std::size_t>(n)};
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

std::string os_name() {
  struct utsname u {};
  if (::uname(&u) != 0) return "linux";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

}  // namespace

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

KeyAndCsr make_key_and_csr(const std::string& common_name) {
  ERR_clear_error();
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) openssl_fail("cannot generate the agent key");
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 || X509_REQ_set_pubkey(req.get(), key.get()) != 1)
    openssl_fail("cannot build the certificate request");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 -1, -1, 0) != 1)
    openssl_fail("cannot set the request's common name");
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) openssl_fail("cannot sign the certificate request");

  KeyAndCsr out;
  BioPtr kb(BIO_new(BIO_s_secmem()));
  if (!kb || PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    openssl_fail("cannot encode the agent key");
  out.key_pem = common::SecretBytes::copy_of(bio_text(kb.get()));  // the secure-heap BIO is wiped when freed
  BioPtr rb(BIO_new(BIO_s_mem()));
  if (!rb || PEM_write_bio_X509_REQ(rb.get(), req.get()) != 1) openssl_fail("cannot encode the certificate request");
  out.csr_pem = std::string(bio_text(rb.get()));
  return out;
}

std::string certificate_common_name(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return {};
  X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  ERR_clear_error();
  if (!cert) return {};
  char buf[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, buf, sizeof buf) < 0) return {};
  return buf;
}

namespace {

// The options' own checks, before anything is written.
void check_options(const EnrollOptions& o) {
  const auto url = parse_url(o.collector);
  if (!url || url->scheme != "https")
    throw std::runtime_error("--collector must be https://host:port (got \"" + o.collector + "\")");
  if (o.token.empty())
    throw std::runtime_error("an enrollment token is needed (--token, --token-file or KEYWARD_ENROLL_TOKEN)");
  if (o.state_dir.empty() || o.state_dir.front() != '/')
    throw std::runtime_error("--state-dir must be an absolute path (got \"" + o.state_dir + "\")");
  read_file(o.ca);  // fail early, naming the file
}

// The configuration an enrolled agent runs with: its files in the state directory.
AgentConfig config_for(const EnrollOptions& o) {
  AgentConfig c;
  c.collector = o.collector;
  c.state_dir = o.state_dir;
  c.key = o.state_dir + "/agent.key";
  c.certificate = o.state_dir + "/agent.pem";
  c.ca = o.state_dir + "/ca.pem";
  c.roots = o.roots.empty() ? std::vector<std::string>{"/"} : o.roots;
  c.proxy = o.proxy;
  return c;
}

// Refuses to enroll over an existing key or config unless forced. Removes nothing: forced, the
// old files are replaced only once the new enrollment is on disk. Temporary files a killed
// enrollment left beside them go.
void check_the_way(const EnrollOptions& o, const AgentConfig& c) {
  if (!o.force) {
    if (exists(c.key))
      throw std::runtime_error(c.key +
                               " exists: this host is enrolled already; use --force to enroll again with a new key");
    if (!o.config_out.empty() && exists(o.config_out))
      throw std::runtime_error(o.config_out + " exists; use --force to replace it");
  }
  for (const std::string& p : {c.key, c.certificate, c.ca, o.config_out})
    if (!p.empty()) remove_leftover_temporaries(p);
}

// Sends the CSR with the token; the collector's answer, or an error saying why it refused.
protocol::EnrollResponse post_csr(const EnrollOptions& o, const std::string& csr_pem, const std::string& hostname) {
  protocol::EnrollRequest er{csr_pem, hostname, os_name()};
  TlsClientOptions tls;
  tls.ca_file = o.ca;
  tls.proxy = o.proxy;
  HttpRequest req;
  req.url = o.collector + protocol::kEnrollPath;
  req.body = protocol::to_json(er).dump();
  req.bearer = o.token;
  auto res = https_request(tls, req);
  if (!res) throw std::runtime_error("enrollment failed: " + res.error().message);
  if (res->status != 201 && res->status != 200) {
    std::string detail;
    const auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
      const auto& e = j["error"];
      detail = fmt::format(" ({}: {})", e.value("code", ""), e.value("message", "").substr(0, 200));
    }
    const char* hint = res->status == 401 || res->status == 403
                           ? "; the token may be wrong, used or expired: ask an admin for a new one"
                           : "";
    throw std::runtime_error(
        fmt::format("the collector refused the enrollment: HTTP {}{}{}", res->status, detail, hint));
  }
  auto parsed = protocol::parse_enroll_response(res->body);
  if (!parsed) throw std::runtime_error("the collector's enrollment answer is not valid: " + parsed.error().message);
  return std::move(*parsed);
}

// The certificate must be for our key (the CSR's public key).
void check_certificate_is_ours(const std::string& certificate_pem, const std::string& csr_pem) {
  BioPtr cb(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  BioPtr rb(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  X509ReqPtr csr(PEM_read_bio_X509_REQ(rb.get(), nullptr, nullptr, nullptr));
  if (!cert || !csr || EVP_PKEY_eq(X509_get0_pubkey(cert.get()), X509_REQ_get0_pubkey(csr.get())) != 1) {
    ERR_clear_error();
    throw std::runtime_error("the collector returned a certificate that is not for this agent's key");
  }
}

}  // namespace

EnrollResult enroll(const EnrollOptions& o) {
  check_options(o);
  make_private_dir(o.state_dir);
  AgentConfig c = config_for(o);
  check_the_way(o, c);

  // The key stays in memory until the collector has answered with a certificate for it.
  const std::string hostname = host_name();
  const KeyAndCsr kc = make_key_and_csr(hostname);
  const protocol::EnrollResponse parsed = post_csr(o, kc.csr_pem, hostname);
  check_certificate_is_ours(parsed.certificate_pem, kc.csr_pem);

  const std::string ca = parsed.ca_pem.empty() ? read_file(o.ca) : parsed.ca_pem;
  std::string config_text;
  if (!o.config_out.empty()) {
    c.source = o.config_out;
    config_text = render_config(c);
  }
  // Without --force the key must not exist (O_EXCL semantics): it is put in place first.
  std::vector<NewFile> files = {
      {c.key, kc.key_pem.view(), 0600, o.force}, {c.certificate, parsed.certificate_pem, 0600}, {c.ca, ca, 0600}};
  if (!o.config_out.empty()) files.push_back({o.config_out, config_text, 0644});
  replace_files_together(files);
  return EnrollResult{parsed.agent_id, parsed.status, c};
}

}  // namespace keyward::agent
