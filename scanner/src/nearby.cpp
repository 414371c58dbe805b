// SPDX-License-Identifier: Apache-2.0
#include "nearby.hpp"

#include "walk/source.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>

namespace keyward::scanner::detail {
namespace {

constexpr std::array<std::string_view, 30> kFiles{
    "gradle.properties", "keystore.properties", "key.properties", "signing.properties", "local.properties",
    "release.properties", "application.properties", "application.yml", "application.yaml", "bootstrap.properties",
    "bootstrap.yml", "server.xml", "build.gradle", "build.gradle.kts", ".env", ".env.local", ".env.production",
    "standalone.xml", "jetty-ssl.xml", "ssl.properties",
    // Build and CI files that run openssl/keytool/gpg:
    "Makefile", "makefile", "GNUmakefile", "Jenkinsfile", "Dockerfile", ".gitlab-ci.yml", ".travis.yml",
    "azure-pipelines.yml", "bitbucket-pipelines.yml", ".circleci/config.yml"};
// Files found by listing: shell scripts in each directory (generate-certs.sh, build.sh) and the
// GitHub workflows under its .github/workflows.
constexpr std::array<std::string_view, 2> kScriptSuffixes{".sh", ".bash"};
constexpr std::array<std::string_view, 2> kWorkflowSuffixes{".yml", ".yaml"};
constexpr std::string_view kWorkflows = ".github/workflows";
constexpr std::size_t kMaxListed = 16;       // listed files read per directory, by name order
constexpr std::size_t kMaxEntries = 4096;    // directory entries looked at per directory
constexpr std::size_t kMaxTotal = 4u << 20;  // bytes read for one store
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

// Command options that take a store's password in scripts, Makefiles and CI files. openssl's
// take "pass:X" (env:, file:, fd: and stdin name where the password is, not the password);
// keytool's and gpg's take the value itself (keytool's -storepass:env / :file forms are skipped).
struct PasswordOption {
  std::string_view name;
  bool openssl;
};
constexpr std::array<PasswordOption, 11> kOptions{{{"-passout", true},
                                                   {"-passin", true},
                                                   {"-password", true},
                                                   {"-storepass", false},
                                                   {"-deststorepass", false},
                                                   {"-srcstorepass", false},
                                                   {"-keypass", false},
                                                   {"-destkeypass", false},
                                                   {"-srckeypass", false},
                                                   {"--passphrase", false},
                                                   {"-passphrase", false}}};

bool word_end(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' ||
         c == '(' || c == ')';
}

// Whether the quote at `p` is closed before the line ends.
bool closes_on_line(std::string_view text, std::size_t p, char quote) {
  const std::size_t close = text.find(quote, p + 1);
  const std::size_t eol = text.find('\n', p + 1);
  return close != std::string_view::npos && close < eol;
}

// One shell word starting at `p`, quotes removed. False for a word holding an expansion ($VAR,
// ${VAR}, $(cmd), `cmd`, ${{ secrets.X }}, %VAR%): the password is elsewhere.
bool shell_word(std::string_view text, std::size_t p, common::SecretBytes& out) {
  char quote = 0;
  for (; p < text.size() && out.size() <= 256; ++p) {
    const char c = text[p];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
      else out.push_back(static_cast<std::uint8_t>(c));
      continue;
    }
    if (c == '$' || c == '`' || (c == '%' && out.empty())) return false;
    if (quote == '"' && c == '"') {
      quote = 0;
    } else if (quote == 0 && (c == '"' || c == '\'')) {
      if (!out.empty() && !closes_on_line(text, p, c)) break;  // sh "keytool -storepass X" in a Jenkinsfile
      quote = c;
    } else if (c == '\\' && p + 1 < text.size() && text[p + 1] != '\n') {
      out.push_back(static_cast<std::uint8_t>(text[++p]));
    } else if (quote == 0 && word_end(c)) {
      break;
    } else if (c == '\n' || c == '\r') {
      return false;  // an unterminated quote
    } else {
      out.push_back(static_cast<std::uint8_t>(c));
    }
  }
  return quote == 0 && !out.empty() && out.size() <= 256;
}

// The value one option at `at` gives, empty when it gives none.
common::SecretBytes option_value(std::string_view text, std::size_t at, const PasswordOption& o) {
  std::size_t p = at + o.name.size();
  if (p >= text.size() || (text[p] != ' ' && text[p] != '\t' && text[p] != '=')) return common::SecretBytes();
  while (p < text.size() && (text[p] == ' ' || text[p] == '\t' || text[p] == '=')) ++p;
  common::SecretBytes word;
  if (!shell_word(text, p, word) || word.view().front() == '-') return common::SecretBytes();
  if (!o.openssl) return word;
  constexpr std::string_view kPass = "pass:";
  if (word.size() <= kPass.size() || word.view().substr(0, kPass.size()) != kPass) return common::SecretBytes();
  return common::SecretBytes::copy_of(word.view().substr(kPass.size()));
}

void add_unique(std::vector<common::SecretBytes>& out, common::SecretBytes v) {
  if (!v.empty() && out.size() < kMaxCandidates && std::find(out.begin(), out.end(), v) == out.end())
    out.push_back(std::move(v));
}

// The values of password options on command lines in `text`.
void option_values(std::string_view text, std::vector<common::SecretBytes>& out) {
  for (const auto& o : kOptions) {
    for (std::size_t at = text.find(o.name); at != std::string_view::npos; at = text.find(o.name, at + 1)) {
      const char before = at == 0 ? ' ' : text[at - 1];
      if (!word_end(before) && before != '"' && before != '\'') continue;
      add_unique(out, option_value(text, at, o));
    }
  }
}

// Where the files beside a store are read: this machine's disk, or a file source's tree.
class Neighbours {
 public:
  explicit Neighbours(FileSource* source) : source_(source) {}

  // The names in `dir` (at most kMaxEntries looked at).
  std::vector<std::string> names(const std::string& dir) {
    std::vector<std::string> out;
    if (source_ == nullptr) {
      std::error_code ec;
      std::filesystem::directory_iterator it(dir, ec), end;
      for (std::size_t seen = 0; !ec && it != end && seen < kMaxEntries; it.increment(ec), ++seen)
        out.push_back(it->path().filename().string());
      return out;
    }
    OpenDir d;
    d.path = dir;
    d.base = dir.back() == '/' ? dir : dir + "/";
    int err = 0;
    ScanStats ignored;
    if (source_->open_dir(d, err) == DirStatus::ok) {
      source_->list_dir(d, ignored, err);
      for (std::size_t i = 0; i < d.entries.size() && i < kMaxEntries; ++i) out.emplace_back(d.entries[i].name);
    }
    source_->close_dir(d);
    return out;
  }

  // Reads up to `max` bytes of the regular file at `path` into `text` (wiped when dropped: the file
  // holds passwords); false when it is not a regular file or cannot be read. Never opens a FIFO.
  bool read(const std::string& path, std::size_t max, common::SecretBytes& text) {
    if (source_ == nullptr) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) return false;
      std::ifstream in;
      in.rdbuf()->pubsetbuf(nullptr, 0);  // unbuffered: the file's bytes go only into `text`
      in.open(path, std::ios::binary);
      if (!in) return false;
      text = common::SecretBytes(max);
      in.read(reinterpret_cast<char*>(text.data()), static_cast<std::streamsize>(text.size()));
      text.resize(static_cast<std::size_t>(in.gcount()));
      return true;
    }
    FileKey key;
    if (!source_->stat_file(path, key)) return false;
    FileFacts facts;
    int err = 0;
    std::unique_ptr<OpenFile> file;
    if (source_->open_file(path, ~std::uint64_t{0}, facts, err, file) != ReadStatus::ok) return false;
    text = common::SecretBytes(max);
    std::size_t got = 0;
    if (file->read_at(0, reinterpret_cast<char*>(text.data()), text.size(), got, err) != ReadStatus::ok) return false;
    text.resize(got);
    return true;
  }

 private:
  FileSource* source_;
};

// The files named `suffixes` in `dir`, by name, at most kMaxListed.
std::vector<std::string> listed(Neighbours& n, const std::string& dir, std::span<const std::string_view> suffixes) {
  std::vector<std::string> names;
  for (std::string& name : n.names(dir)) {
    const bool match = std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) {
      return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    });
    if (match) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  if (names.size() > kMaxListed) names.resize(kMaxListed);
  return names;
}

// The files read in one directory: the usual names, its scripts, its GitHub workflows.
std::vector<std::string> files_in(Neighbours& n, const std::string& dir) {
  const std::string prefix = dir == "/" ? std::string("/") : dir + "/";
  std::vector<std::string> out;
  for (std::string_view name : kFiles) out.push_back(prefix + std::string(name));
  for (const auto& name : listed(n, dir, kScriptSuffixes)) out.push_back(prefix + name);
  const std::string workflows = prefix + std::string(kWorkflows);
  for (const auto& name : listed(n, workflows, kWorkflowSuffixes)) out.push_back(workflows + "/" + name);
  return out;
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
    if (name.front() == '-' || !password_key(name)) continue;  // a command option: option_values
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
    add_unique(out, common::SecretBytes::copy_of(value));
  }
  option_values(text, out);
  return out;
}

std::vector<PasswordCandidate> nearby_passwords(const std::string& store_path, FileSource* source) {
  std::vector<PasswordCandidate> out;
  Neighbours neighbours(source);
  std::size_t budget = kMaxTotal;
  std::string dir = store_path;
  for (int level = 0; level <= kParents && budget > 0; ++level) {
    const auto slash = dir.find_last_of('/');
    if (slash == std::string::npos) dir = ".";
    else dir = slash == 0 ? std::string("/") : dir.substr(0, slash);
    for (const std::string& file : files_in(neighbours, dir)) {
      common::SecretBytes text;
      if (budget == 0 || !neighbours.read(file, std::min(kMaxFile, budget), text)) continue;
      budget -= text.size();
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
