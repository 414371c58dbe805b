// SPDX-License-Identifier: Apache-2.0
#include "migrate/softhsm_fixture.hpp"

#include "pkcs11.hpp"
#include "support/generated_dir.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/common/random.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace keyward::test {

void sh(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}

SoftHsmToken::SoftHsmToken(std::string label) : label_(std::move(label)) {
  dir_ = (std::filesystem::temp_directory_path() / ("keyward-softhsm-" + common::random_hex(6))).string();
  std::filesystem::create_directories(dir_ + "/tokens");
  conf_ = dir_ + "/softhsm2.conf";
  std::ofstream(conf_) << "directories.tokendir = " << dir_ << "/tokens\nobjectstore.backend = file\n"
                       << "log.level = ERROR\nslots.removable = false\n";
  if (const char* old = std::getenv("SOFTHSM2_CONF")) old_conf_ = old;
  ::setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
  pin_ = common::random_hex(8), so_pin_ = common::random_hex(8);
  // Set-up only: softhsm2-util takes the PINs as arguments; keyward itself never does.
  sh("softhsm2-util --init-token --free --label " + shell_quote(label_) + " --pin " + pin_ + " --so-pin " + so_pin_ +
     " >/dev/null");
}

SoftHsmToken::~SoftHsmToken() {
  if (old_conf_) ::setenv("SOFTHSM2_CONF", old_conf_->c_str(), 1);
  else ::unsetenv("SOFTHSM2_CONF");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> SoftHsmToken::objects() const {
  migrate::p11::Module module(kSoftHsmModule);
  const common::SecretBytes pin = common::SecretBytes::copy_of(pin_);
  migrate::p11::Session s(module, label_, pin);
  std::vector<std::string> out;
  for (ck_object_handle_t h : s.find({})) {
    const auto cls = s.get(h, CKA_CLASS), label = s.get(h, CKA_LABEL), id = s.get(h, CKA_ID);
    out.push_back(common::to_hex(cls) + " " + std::string(label.begin(), label.end()) + " " + common::to_hex(id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace keyward::test
