// SPDX-License-Identifier: Apache-2.0
// Passwords lying next to a key store: gradle.properties/keystore.properties/key.properties
// (storePassword=), Spring (server.ssl.key-store-password), Tomcat server.xml (keystorePass=),
// build.gradle signingConfigs, .env files; and the password options of the openssl, keytool and
// gpg command lines in scripts, Makefiles and CI files (-passout pass:X, -storepass X). The worst
// case of a store: its password beside it.
// Used by: item_scan.cpp when a store is found. Returns values only to try them; callers must
// never output them (findings name the file, never the value).
#pragma once

#include "detectors/binary.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

class FileSource;  // walk/source.hpp

// Candidates from the usual files in the store's directory and up to four parents (docs/scan.md
// lists them), within a budget of files and bytes. Read from this machine's disk, or through
// `source` when given (a remote tree: the files beside a remote store are on its host).
std::vector<PasswordCandidate> nearby_passwords(const std::string& store_path, FileSource* source = nullptr);

// The password-like assignments and password options in one file's text (exposed for tests), each
// wiped when dropped.
std::vector<common::SecretBytes> password_values(std::string_view text);

}  // namespace keyward::scanner::detail
