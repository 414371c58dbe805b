// SPDX-License-Identifier: Apache-2.0
// Private: builds the files of a rule example in memory: keys generated with OpenSSL (once per
// algorithm per process), written in the requested format (OpenSSL's writers where they exist,
// small writers here for OpenSSH, PuTTY, SSH.com, OpenPGP, GnuPG key files, JWK, .NET XML, JKS,
// JCEKS and encrypted zip), plus companions (a certificate file, keystore.properties).
// Used by: rule_test.cpp only. Never writes anything itself: the caller writes the files under a
// temporary directory.
#pragma once

#include <keyward/rules/example.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace keyward::rules::detail {

// One file to write.
struct GeneratedFile {
  std::string path;  // relative to the example's tree
  std::string bytes;
  std::uint32_t mode = 0600;
};

// The files of one example; throws std::runtime_error when the algorithm does not fit the format
// (e.g. "ed25519 pem-pkcs1") or OpenSSL fails.
std::vector<GeneratedFile> generate_example(const Example& example);

// The default file name of a format ("keys/example.pem").
std::string default_example_path(const std::string& format);

}  // namespace keyward::rules::detail
