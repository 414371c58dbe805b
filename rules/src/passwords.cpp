#include <keyward/rules/passwords.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace keyward::rules {

namespace detail {
extern const char* const kBuiltinPasswords;  // generated from rules/data/common-passwords.txt
}

std::vector<std::string> parse_passwords(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() != '#') out.emplace_back(line);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> builtin_passwords() { return parse_passwords(detail::kBuiltinPasswords); }

std::vector<std::string> load_passwords(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read password list " + path + ": check the path and its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_passwords(ss.str());
}

}  // namespace keyward::rules
