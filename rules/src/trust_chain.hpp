// SPDX-License-Identifier: Apache-2.0
// Chain checks against a trust store, for the publicly-trusted factor (docs/rules.md). Private to
// keyward::rules; the engine calls it once per scoring run, only when a key has a CA-issued
// certificate.
#pragma once

#include <string>
#include <vector>

namespace keyward::rules::detail {

// For each of `leaves` (DER certificates), whether it chains to a root of the trust store, with
// `intermediates` (DER, every certificate of the scan) offered as untrusted certificates. The
// store is `trust_file` (PEM), or when empty OpenSSL's default paths: the system store
// (/etc/ssl/certs on Debian; SSL_CERT_FILE and SSL_CERT_DIR override). Validity dates are not
// checked here (valid-now says that). RuleError "cannot-read" when trust_file cannot be loaded.
std::vector<bool> chains_to_trusted_root(const std::vector<const std::string*>& leaves,
                                         const std::vector<const std::string*>& intermediates,
                                         const std::string& trust_file);

}  // namespace keyward::rules::detail
