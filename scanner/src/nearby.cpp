#include "nearby.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>

namespace keyward::scanner::detail {
namespace {

constexpr std::array<std::string_view, 20> kFiles{"gradle.properties",
                                                  "keystore.properties",
                                                  "key.properties",
                                                  "signing.properties",
                                                  "local.properties",
                                                  "release.properties",
                                                  "application.properties",
                                                  "application.yml",
                                                  "application.yaml",
                                                  "bootstrap.properties",
                                                  "bootstrap.yml",
                                                  "server.xml",
                                                  "build.gradle",
                                                  "build.gradle.kts",
                                                  ".env",
                                                  ".env.local",
                                                  ".env.production",
                                                  "standalone.xml",
                                                  "jetty-ssl.xml",
                                                  "ssl.properties"};
constexpr std::size_t kMaxFile = 256 * 1024;
constexpr std::size_t kMaxCandidates = 32;
constexpr int kParents = 4;

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-'; }

// "server.ssl.key-store-password" -> "serversslkeystorepassword"
std::string normalise(std::string_view name) {
  std::string out;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)) != 0)
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool password_key(std::string_view name) {
  const std::string n = normalise(name);
  if (n.find("pass") == std::string::npos) return false;
  for (std::string_view hint : {"store", "key", "pfx", "p12", "pkcs12", "cert", "sign", "ssl", "jks"})
    if (n.find(hint) != std::string::npos) return true;
  return false;
}

}  // namespace

std::vector<common::SecretBytes> password_values(std::string_view text) {
  std::vector<common::SecretBytes> out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < kMaxCandidates) {
    if (!ident_char(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && ident_char(text[i])) ++i;
    const std::string_view name = text.substr(start, i - start);
    if (!password_key(name)) continue;
    std::size_t p = i;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    const bool assigned = p < text.size() && (text[p] == '=' || text[p] == ':');
    const bool groovy =
        !assigned && p > i && p < text.size() && (text[p] == '"' || text[p] == '\'');  // storePassword "x"
    if (!assigned && !groovy) continue;
    if (assigned) ++p;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    if (p >= text.size()) break;
    std::string_view value;
    if (text[p] == '"' || text[p] == '\'') {
      const char q = text[p];
      const std::size_t end = text.find(q, p + 1);
      if (end == std::string_view::npos || end - p > 512) continue;
      value = text.substr(p + 1, end - p - 1);
      i = end + 1;
    } else {
      std::size_t end = p;
      while (end < text.size() && text[end] != '\n' && text[end] != '\r' && text[end] != ' ' && text[end] != '\t' &&
             text[end] != ';' && text[end] != ',' && text[end] != '<' && text[end] != '>')
        ++end;
      value = text.substr(p, end - p);
      i = end;
    }
    // ${ENV} and ${property} placeholders are not passwords.
    if (value.empty() || value.find("${") != std::string_view::npos || value.size() > 256) continue;
    common::SecretBytes secret = common::SecretBytes::copy_of(value);
    if (std::find(out.begin(), out.end(), secret) == out.end()) out.push_back(std::move(secret));
  }
  return out;
}

std::vector<PasswordCandidate> nearby_passwords(const std::string& store_path) {
  std::vector<PasswordCandidate> out;
  std::string dir = store_path;
  for (int level = 0; level <= kParents; ++level) {
    const auto slash = dir.find_last_of('/');
    if (slash == std::string::npos) dir = ".";
    else dir = slash == 0 ? std::string("/") : dir.substr(0, slash);
    for (std::string_view name : kFiles) {
      const std::string file = (dir == "/" ? std::string("/") : dir + "/") + std::string(name);
      std::ifstream in;
      in.rdbuf()->pubsetbuf(nullptr, 0);  // unbuffered: the file's bytes go only into `text`
      in.open(file, std::ios::binary);
      if (!in) continue;
      common::SecretBytes text(kMaxFile);  // the file holds passwords: its bytes are wiped
      in.read(reinterpret_cast<char*>(text.data()), static_cast<std::streamsize>(text.size()));
      text.resize(static_cast<std::size_t>(in.gcount()));
      for (auto& v : password_values(text.view())) {
        const bool seen =
            std::any_of(out.begin(), out.end(), [&](const PasswordCandidate& c) { return c.password == v; });
        if (!seen && out.size() < kMaxCandidates) out.push_back({std::move(v), file});
      }
    }
    if (dir == "/" || dir == ".") break;
  }
  return out;
}

}  // namespace keyward::scanner::detail
