// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/passwords.hpp>

#include <fstream>
#include <stdexcept>

namespace keyward::rules {

namespace detail {
extern const char* const kBuiltinPasswords;  // generated from rules/data/common-passwords.txt
}

std::vector<common::SecretBytes> parse_passwords(std::string_view text) {
  std::vector<common::SecretBytes> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() != '#') out.push_back(common::SecretBytes::copy_of(line));
    start = end + 1;
  }
  return out;
}

std::vector<common::SecretBytes> builtin_passwords() { return parse_passwords(detail::kBuiltinPasswords); }

std::vector<common::SecretBytes> load_passwords(const std::string& path) {
  std::ifstream in;
  in.rdbuf()->pubsetbuf(nullptr, 0);  // unbuffered: the file's bytes go only into `text`
  in.open(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read password list " + path + ": check the path and its permissions");
  common::SecretBytes text;  // the whole file (team passwords): wiped once parsed
  constexpr std::size_t kChunk = 64 * 1024;
  for (;;) {
    const std::size_t at = text.size();
    text.resize(at + kChunk);
    in.read(reinterpret_cast<char*>(text.data() + at), static_cast<std::streamsize>(kChunk));
    text.resize(at + static_cast<std::size_t>(in.gcount()));
    if (!in) break;
  }
  return parse_passwords(text.view());
}

}  // namespace keyward::rules
