// SPDX-License-Identifier: Apache-2.0
// Facts about an X.509 certificate read by OpenSSL (subject, validity, usages, fingerprints).
// Used by: the PEM and DER detectors, PKCS#7 and (later) keystore detectors.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <openssl/x509.h>

namespace keyward::scanner::detail {

// Fills every CertFacts field except trust_store from a parsed certificate (der included).
CertFacts cert_facts(X509* cert);

}  // namespace keyward::scanner::detail
