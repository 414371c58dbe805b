// SPDX-License-Identifier: Apache-2.0
// read_secret_source (execute.hpp): a PIN or password from env:VAR or file:PATH, never from an
// argument. Error messages name the source, never the value.
#include <keyward/migrate/execute.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace keyward::migrate {

common::SecretBytes read_secret_source(std::string_view source) {
  if (source.starts_with("env:") && source.size() > 4) {
    const std::string var(source.substr(4));
    const char* v = std::getenv(var.c_str());
    if (v == nullptr) throw std::runtime_error(fmt::format("secret source env:{}: the variable is not set", var));
    return common::SecretBytes::copy_of(std::string_view(v));
  }
  if (source.starts_with("file:") && source.size() > 5) {
    const std::string path(source.substr(5));
    std::FILE* f = std::fopen(path.c_str(), "rbe");
    if (f == nullptr) throw std::runtime_error(fmt::format("secret source file:{}: cannot read it", path));
    common::SecretBytes s;
    for (;;) {
      std::uint8_t* at = s.append_space(4096);
      const std::size_t n = std::fread(at, 1, 4096, f);
      s.appended(n);
      if (n == 0 || s.size() > (1u << 16)) break;
    }
    std::fclose(f);
    if (!s.empty() && s.data()[s.size() - 1] == '\n') s.resize(s.size() - 1);
    return s;
  }
  throw std::invalid_argument("a secret source is env:VAR or file:PATH (never the secret itself)");
}

}  // namespace keyward::migrate
