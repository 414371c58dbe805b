// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load: the synthetic agents' identities (EC P-256 keys, CSRs), the fleet
// directory (agents.json, one key and one certificate per agent) and the token files.
// Must never print a key or a token: keys go from OpenSSL straight into their 0600 files.
#include "fleet_load.hpp"

#include <nlohmann/json.hpp>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace keyward::fleet_load {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};

[[noreturn]] void openssl_failed(const std::string& what) {
  ERR_clear_error();
  throw std::runtime_error(what + " failed (OpenSSL)");
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

PkeyPtr new_agent_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) openssl_failed("EC P-256 key generation");
  return key;
}

std::string make_csr_pem(EVP_PKEY* key, const std::string& cn) {
  std::unique_ptr<X509_REQ, ReqFree> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 || X509_REQ_set_pubkey(req.get(), key) != 1)
    openssl_failed("CSR");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1)
    openssl_failed("CSR subject");
  if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) openssl_failed("CSR signature");
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509_REQ(b.get(), req.get()) != 1) openssl_failed("CSR PEM");
  return bio_text(b.get());
}

void write_key_file(EVP_PKEY* key, const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  ::fchmod(fd, 0600);
  // An fd BIO: the PEM goes to the file without a buffer of ours to wipe.
  BioPtr b(BIO_new_fd(fd, BIO_CLOSE));
  if (!b) {
    ::close(fd);
    openssl_failed("key file");
  }
  if (PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    openssl_failed("writing " + path);
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f.flush()) throw std::runtime_error("cannot write " + path);
}

void write_fleet(const std::string& dir, const std::vector<AgentRecord>& agents) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : agents)
    list.push_back({{"id", a.id}, {"hostname", a.hostname}, {"cert", a.cert_file}, {"key", a.key_file}});
  write_text_file(dir + "/agents.json", nlohmann::json{{"agents", list}, {"count", agents.size()}}.dump(1) + "\n");
}

std::vector<AgentRecord> read_fleet(const std::string& dir, std::size_t count) {
  std::ifstream f(dir + "/agents.json");
  if (!f) throw std::runtime_error("no fleet in " + dir + " (agents.json); run `enroll` first");
  const auto j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.contains("agents") || !j["agents"].is_array())
    throw std::runtime_error(dir + "/agents.json is not a fleet file");
  std::vector<AgentRecord> out;
  for (const auto& a : j["agents"]) {
    if (out.size() == count) break;
    out.push_back({a.at("id").get<std::string>(), a.at("hostname").get<std::string>(), a.at("cert").get<std::string>(),
                   a.at("key").get<std::string>()});
  }
  if (out.size() < count)
    throw std::runtime_error(dir + " holds " + std::to_string(out.size()) + " agents, fewer than --agents " +
                             std::to_string(count));
  return out;
}

X509Ptr load_cert(const std::string& path) {
  BioPtr b(BIO_new_file(path.c_str(), "r"));
  X509Ptr x(b ? PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!x) openssl_failed("reading the certificate " + path);
  return x;
}

PkeyPtr load_key(const std::string& path) {
  BioPtr b(BIO_new_file(path.c_str(), "r"));
  PkeyPtr k(b ? PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!k) openssl_failed("reading the key " + path);
  return k;
}

std::string read_token_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read the token file " + path);
  std::string token;
  std::getline(f, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.empty()) {
    wipe(token);
    throw std::runtime_error("the token file " + path + " is empty");
  }
  return token;
}

}  // namespace keyward::fleet_load
