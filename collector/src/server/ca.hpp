// SPDX-License-Identifier: Apache-2.0
// The collector's certificate authority: makes the CA and the server certificate at `init`
// and signs agents' CSRs at enrollment (mutual TLS between agents and the collector).
// Used by: the command line (init) and the API (enroll). OpenSSL stays inside ca.cpp.
// Must never write a private key readable by others (files are created 0600 with O_EXCL) nor
// put anything from the CSR's subject into a certificate: agents are named by the collector.
#pragma once

#include <boost/system/result.hpp>

#include <memory>
#include <string>
#include <vector>

namespace keyward::collector {

// Creates an EC P-256 CA (10 years, CA:TRUE critical, keyCertSign|cRLSign) at cert_path/key_path.
void make_ca(const std::string& cert_path, const std::string& key_path, const std::string& common_name);

// Creates an EC P-256 server certificate signed by the CA, with the SANs (IP addresses become
// IP SANs, the rest DNS SANs) and EKU serverAuth.
void make_server_certificate(const std::string& ca_cert_path, const std::string& ca_key_path,
                             const std::string& cert_path, const std::string& key_path,
                             const std::vector<std::string>& sans);

// Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of a certificate or key PEM file.
std::string spki_sha256_of_file(const std::string& pem_path);

// Lowercase hex SHA-256 of bytes.
std::string sha256_hex(const void* data, std::size_t size);

// 2*n lowercase hex digits from the OpenSSL DRBG.
std::string random_hex(std::size_t n_bytes);

// An agent certificate the CA issued.
struct SignedAgent {
  std::string agent_id;  // 16 hex digits, the certificate's CN
  std::string cert_pem;
  std::string cert_sha256;  // of the DER certificate (how the TLS peer is looked up)
  std::string serial_hex;
  std::string spki_sha256;  // of the agent's public key (DER SubjectPublicKeyInfo)
};

// Why a CSR was refused (one line, never echoes the CSR).
struct CsrRefusal {
  std::string message;
};

// A loaded CA (certificate and key), shared read-only by the server's threads.
class CertificateAuthority {
 public:
  // Loads and checks that the key matches the certificate; throws std::runtime_error otherwise.
  CertificateAuthority(const std::string& ca_cert_path, const std::string& ca_key_path);
  ~CertificateAuthority();
  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;

  // Signs a PKCS#10 CSR for a new agent: checks its signature, refuses weak keys (RSA < 2048,
  // DSA, EC < 256 bits), ignores its subject (CN=<new agent id>), EKU clientAuth, 1 year.
  boost::system::result<SignedAgent, CsrRefusal> sign_agent_csr(const std::string& csr_pem) const;

  // The CA certificate PEM (handed to agents at enrollment).
  const std::string& ca_pem() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::collector
