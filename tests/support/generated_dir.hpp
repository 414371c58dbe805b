// SPDX-License-Identifier: Apache-2.0
// Test material generated once per test run and shared by every test process: ctest runs each
// doctest case in its own process, and RSA-4096, DSA, keytool and gpg are slow on 2 cores. With
// KEYWARD_CORPUS set (the suite's fixture) the material is made once under it, serialised by a
// lock and marked done; later processes reuse it. Without it, a temporary directory that is
// removed at exit. Never writes into the source tree.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace keyward::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The first line, without trailing CR or spaces.
inline std::string first_line(std::string s) {
  const auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

class GeneratedDir {
 public:
  std::filesystem::path dir;
  std::string failure;  // the first command that failed, if any
  bool shared = false;  // under $KEYWARD_CORPUS, kept for the other processes

  GeneratedDir() = default;
  GeneratedDir(const GeneratedDir&) = delete;
  GeneratedDir& operator=(const GeneratedDir&) = delete;
  virtual ~GeneratedDir() {
    if (dir.empty() || shared) return;
    cleanup();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // Runs a shell command in dir (output to dir/log); the first failure is kept in `failure`.
  void run(const std::string& cmd) {
    if (!failure.empty()) return;
    const std::string full = "cd " + shell_quote(dir.string()) + " && (" + cmd + ") >>log 2>&1 </dev/null";
    if (std::system(full.c_str()) != 0) failure = cmd + " (see " + (dir / "log").string() + ")";
  }
  std::string text(const std::string& name) const { return slurp(dir / name); }
  std::string value(const std::string& name) const { return first_line(slurp(dir / name)); }

 protected:
  // `name`: the folder under $KEYWARD_CORPUS; put a version in it and bump it whenever
  // generate() changes, so that a set kept from an older run is not reused.
  void prepare(const std::string& name) {
    if (const char* corpus = std::getenv("KEYWARD_CORPUS"); corpus != nullptr && *corpus != '\0') {
      shared = true;
      const std::filesystem::path root(corpus);
      dir = root / name;
      std::error_code ec;
      std::filesystem::create_directories(root, ec);
      const int lock = ::open((root / (name + ".lock")).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (lock >= 0) ::flock(lock, LOCK_EX);
      if (std::filesystem::exists(dir / ".done")) {
        reused();
      } else {
        std::filesystem::remove_all(dir, ec);
        std::filesystem::create_directories(dir, ec);
        generate();
        if (failure.empty()) std::ofstream(dir / ".done") << "ok\n";
        cleanup();
      }
      if (lock >= 0) ::close(lock);
      return;
    }
    std::string tmpl = "/tmp/keyward-" + name + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      failure = "mkdtemp";
      return;
    }
    dir = tmpl;
    generate();
  }

  virtual void generate() = 0;  // fills dir (use run())
  virtual void reused() {}      // a kept set is used: load what generate() remembered in members
  virtual void cleanup() {}     // after generating: stop helpers (a gpg-agent)
};

}  // namespace keyward::test
