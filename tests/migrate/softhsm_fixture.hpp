// SPDX-License-Identifier: Apache-2.0
// A real SoftHSM2 token in a temp dir for tests (docs/migration.md): its own softhsm2.conf
// (SOFTHSM2_CONF set for this process while it lives, the old value put back after), a token
// initialized by softhsm2-util with a random user PIN and SO PIN, removed at the end. Never
// touches the global token dir.
// Used by: the executor's tests, the CLI's migrate test, the agent's migration tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace keyward::test {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

class SoftHsmToken {
 public:
  // Creates the dir, the conf and the token; throws std::runtime_error when softhsm2-util fails.
  explicit SoftHsmToken(std::string label = "keyward-test");
  ~SoftHsmToken();
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  const std::string& dir() const { return dir_; }      // the temp dir (tokens/ and the conf inside)
  const std::string& conf() const { return conf_; }    // its softhsm2.conf
  const std::string& label() const { return label_; }  // the token label
  const std::string& pin() const { return pin_; }      // the user PIN (random hex)
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Every object on the token, one "class label id-hex" line each, sorted (read as the user).
  std::vector<std::string> objects() const;

 private:
  std::string dir_, conf_, label_, pin_, so_pin_;
  std::optional<std::string> old_conf_;
};

// Runs a shell command (test set-up: openssl genpkey, ...); throws std::runtime_error with the
// command when it exits non-zero.
void sh(const std::string& command);

}  // namespace keyward::test
