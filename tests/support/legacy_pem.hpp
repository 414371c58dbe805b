// SPDX-License-Identifier: Apache-2.0
// PEM shapes no OpenSSL writer produces but real files hold, made at test time from keys the
// tests generate: OpenSSL's legacy PEM encryption ("Proc-Type: 4,ENCRYPTED", "DEK-Info") with any
// cipher OpenSSL names (ECB modes, which the PEM writer refuses) around any DER body (a PKCS#8
// body too), and armour around DER the test changed (trailing bytes). The encryption is done by
// the `openssl enc` tool with the legacy scheme (EVP_BytesToKey, MD5, one round, the DEK-Info
// salt); the password goes to it through a file, never argv.
// Used by: tests/scanner/pem_formats_test.cpp, tests/rules/weak_key_protection_test.cpp.
// Never writes a key into the source tree: files live in a TempTree removed after the test.
#pragma once

#include "support/keygen.hpp"
#include "support/run_command.hpp"
#include "support/temp_tree.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace keyward::test {

// The DER private key: PKCS#8 PrivateKeyInfo, or the traditional form (PKCS#1 RSA, SEC1 EC).
inline std::string private_der(const Pkey& k, bool pkcs8) {
  unsigned char* out = nullptr;
  int n = 0;
  if (pkcs8) {
    PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(k.get());
    REQUIRE(p8 != nullptr);
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, &out);
    PKCS8_PRIV_KEY_INFO_free(p8);
  } else {
    n = i2d_PrivateKey(k.get(), &out);
  }
  REQUIRE(n > 0);
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_clear_free(out, static_cast<std::size_t>(n));
  return der;
}

// PEM armour around `der`, base64 in 64-column lines, with header lines (each ending in '\n',
// a blank line after them as OpenSSL writes).
inline std::string armour(const std::string& label, const std::string& der, const std::string& headers = "") {
  std::string out = "-----BEGIN " + label + "-----\n";
  if (!headers.empty()) out += headers + "\n";
  for (std::size_t i = 0; i < der.size(); i += 48) {
    const std::string chunk = der.substr(i, 48);
    std::string line(4 * ((chunk.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(line.data()),
                                  reinterpret_cast<const unsigned char*>(chunk.data()), static_cast<int>(chunk.size()));
    line.resize(static_cast<std::size_t>(n));
    out += line + "\n";
  }
  return out + "-----END " + label + "-----\n";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Legacy PEM encryption of `der` under `label`: `cipher` as DEK-Info names it (AES-128-ECB,
// AES-128-CBC, DES-ECB, ...), `hex` the DEK-Info hex (ECB: the 8-byte salt; otherwise the IV,
// whose first 8 bytes are the salt). Encrypted by `openssl enc` (legacy provider loaded for
// DES/RC2/Blowfish).
inline std::string legacy_pem(const std::string& label, const std::string& der, const std::string& cipher,
                              const std::string& hex, const std::string& password, bool ecb) {
  TempTree dir;
  const std::string in = dir.write("body.der", der, 0600);
  const std::string pass = dir.write("pass", password, 0600);
  const std::string out = dir.path("body.enc");
  std::string lower = cipher;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string cmd = "openssl enc -e -" + lower + " -S " + hex.substr(0, 16) + " -md md5 -pass file:" + pass;
  if (!ecb) cmd += " -iv " + hex;
  cmd += " -provider legacy -provider default -in " + in + " -out " + out + " 2>/dev/null";
  int status = -1;
  run_command(cmd, status);
  REQUIRE(status == 0);
  std::string enc = read_file(out);
  if (enc.rfind("Salted__", 0) == 0) enc.erase(0, 16);  // the salt is in DEK-Info, not the body
  REQUIRE(enc.size() >= der.size());
  return armour(label, enc, "Proc-Type: 4,ENCRYPTED\nDEK-Info: " + cipher + "," + hex + "\n");
}

// Whether `openssl pkey` opens the PEM text with `password` (empty: no password asked).
inline bool openssl_opens_key(const std::string& pem, const std::string& password) {
  TempTree dir;
  const std::string key = dir.write("key.pem", pem, 0600);
  const std::string pass = password.empty() ? std::string() : " -passin file:" + dir.write("pass", password, 0600);
  int status = -1;
  run_command("openssl pkey -in " + key + pass + " -noout </dev/null >/dev/null 2>&1", status);
  return status == 0;
}

}  // namespace keyward::test
