// SPDX-License-Identifier: Apache-2.0
// Test PKI made with the openssl CLI in a temp dir (once per process) and `openssl s_server`
// processes started and stopped by pid, for the TLS client tests.
#pragma once

#include <support/temp_tree.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace keyward::test {

inline void sh(const std::string& cmd) {
  if (std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

// CA, server (SAN IP:127.0.0.1 only), client, and a second unrelated CA.
class TestPki {
 public:
  static const TestPki& get() {
    static TestPki pki;
    return pki;
  }
  std::string path(const std::string& f) const { return dir_.path(f); }

 private:
  TestPki() {
    const std::string d = dir_.path();
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    sh("cd " + d + " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext" +
       " && printf 'extendedKeyUsage=clientAuth\\n' > client.ext" + " && openssl req -x509 " + ec +
       " -keyout ca.key -out ca.pem -subj /CN=keyward-test-ca -days 2" + " && openssl req -x509 " + ec +
       " -keyout other.key -out other.pem -subj /CN=other-ca -days 2" + " && openssl req " + ec +
       " -keyout server.key -out server.csr -subj /CN=collector" +
       " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 -extfile server.ext -out "
       "server.pem" +
       " && openssl req " + ec + " -keyout client.key -out client.csr -subj /CN=ag_test" +
       " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 -extfile client.ext -out "
       "client.pem" +
       " && chmod 600 client.key");
  }
  TempTree dir_;
};

// A socket listening on 127.0.0.1 on a port the kernel chose (written to `port`).
inline int listen_loopback(int& port, int backlog) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  ::listen(s, backlog);
  return s;
}

inline int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// `openssl s_server -www` requiring a client certificate from the test CA.
class SServer {
 public:
  explicit SServer(const TestPki& pki) : port_(free_port()) {
    std::vector<std::string> args = {"openssl",
                                     "s_server",
                                     "-accept",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "-cert",
                                     pki.path("server.pem"),
                                     "-key",
                                     pki.path("server.key"),
                                     "-CAfile",
                                     pki.path("ca.pem"),
                                     "-Verify",
                                     "1",
                                     "-verify_return_error",
                                     "-www",
                                     "-quiet"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawnp(&pid_, "openssl", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start openssl s_server");
    for (int i = 0; i < 100 && !port_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~SServer() {
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  SServer(const SServer&) = delete;
  SServer& operator=(const SServer&) = delete;
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

}  // namespace keyward::test
