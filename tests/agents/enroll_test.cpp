// SPDX-License-Identifier: Apache-2.0
// Enrollment: the key and CSR, refusing to enroll twice, and what a failed, forced or killed
// enrollment leaves on disk (issue 12): no new key until the collector answered, the old key and
// certificate intact and usable after a failed --force, directories 0700 whatever the umask.
#include "enroll.hpp"
#include "fs_util.hpp"
#include "tls_client.hpp"

#include "tls_fixture.hpp"

#include <doctest/doctest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

using namespace keyward::agent;
namespace t = keyward::test;

namespace {

// The names in a directory.
std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return out;
  while (const dirent* e = ::readdir(d.get()))
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") out.insert(e->d_name);
  return out;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Options for enrolling into `state` with the test CA against 127.0.0.1:port.
EnrollOptions options_for(const std::string& state, int port) {
  EnrollOptions o;
  o.collector = "https://127.0.0.1:" + std::to_string(port);
  o.token = "kwe_secret_token_value";
  o.ca = t::TestPki::get().path("ca.pem");
  o.state_dir = state;
  return o;
}

// A state directory enrolled earlier: the test PKI's client key and certificate, and the CA.
void enrolled_before(const t::TempTree& tree) {
  const auto& pki = t::TestPki::get();
  tree.write("state/agent.key", read_file(pki.path("client.key")), 0600);
  tree.write("state/agent.pem", read_file(pki.path("client.pem")), 0600);
  tree.write("state/ca.pem", read_file(pki.path("ca.pem")), 0600);
}

// The enrollment with `o` fails, with a message that does not show the token.
void enroll_fails(const EnrollOptions& o) {
  try {
    enroll(o);
    FAIL("enroll should fail");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("kwe_secret") == std::string::npos);
  }
}

// The state's key and certificate still open a mutual-TLS connection the test CA's server accepts.
bool state_still_connects(const t::TempTree& tree) {
  const t::SServer server(t::TestPki::get());
  TlsClientOptions tls;
  tls.ca_file = tree.path("state/ca.pem");
  tls.cert_file = tree.path("state/agent.pem");
  tls.key_file = tree.path("state/agent.key");
  tls.timeout = std::chrono::seconds(10);
  HttpRequest req;
  req.method = "GET";
  req.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  const auto res = https_request(tls, req);
  return res && res->status == 200;
}

// A TCP listener on loopback that accepts and then says nothing (a collector that hangs).
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
  }
  ~SilentListener() {
    if (conn_ >= 0) ::close(conn_);
    ::close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int port() const { return port_; }
  // Waits up to 20 s for a connection; true when one came.
  bool accept_one() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) return false;
    conn_ = ::accept(fd_, nullptr, nullptr);
    return conn_ >= 0;
  }

 private:
  int fd_ = -1, conn_ = -1, port_ = 0;
};

}  // namespace

TEST_CASE("the agent key is EC P-256 made on the host and the CSR carries the host name") {
  const KeyAndCsr kc = make_key_and_csr("build-01.example");
  CHECK(kc.key_pem.view().find("BEGIN PRIVATE KEY") != std::string::npos);
  BIO* b = BIO_new_mem_buf(kc.csr_pem.data(), static_cast<int>(kc.csr_pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  REQUIRE(req != nullptr);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req);
  CHECK(X509_REQ_verify(req, pub) == 1);
  CHECK(EVP_PKEY_get_bits(pub) == 256);
  CHECK(EVP_PKEY_is_a(pub, "EC") == 1);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "build-01.example");
  X509_REQ_free(req);
}

TEST_CASE("an existing enrollment is not overwritten without force") {
  keyward::test::TempTree t;
  const auto& pki = keyward::test::TestPki::get();
  t.write("state/agent.key", "existing", 0600);
  EnrollOptions o;
  o.collector = "https://127.0.0.1:1";
  o.token = "kwe_secret_token_value";
  o.ca = pki.path("ca.pem");
  o.state_dir = t.path("state");
  try {
    enroll(o);
    FAIL("enroll should refuse");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("--force") != std::string::npos);
    CHECK(std::string(e.what()).find("kwe_secret") == std::string::npos);
  }
  CHECK(read_file(t.path("state/agent.key")) == "existing");
  CHECK_THROWS(write_file_exclusive(t.path("state/agent.key"), "x", 0600));
}

TEST_CASE("a failed enrollment leaves no key behind and never shows the token") {
  keyward::test::TempTree t;
  const auto& pki = keyward::test::TestPki::get();
  EnrollOptions o;
  o.collector = "https://127.0.0.1:" + std::to_string(keyward::test::free_port());
  o.token = "kwe_secret_token_value";
  o.ca = pki.path("ca.pem");
  o.state_dir = t.path("state");
  o.config_out = t.path("agent.yaml");
  try {
    enroll(o);
    FAIL("enroll should fail: nothing listens");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("kwe_secret") == std::string::npos);
  }
  struct stat st {};
  CHECK(::stat(t.path("state/agent.key").c_str(), &st) != 0);
  CHECK(::stat(t.path("agent.yaml").c_str(), &st) != 0);
  REQUIRE(::stat(t.path("state").c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
}

TEST_CASE("a forced enrollment that cannot reach the collector keeps the old key and certificate, still usable") {
  t::TempTree tree;
  enrolled_before(tree);
  const std::string key = read_file(tree.path("state/agent.key"));
  const std::string cert = read_file(tree.path("state/agent.pem"));
  EnrollOptions o = options_for(tree.path("state"), t::free_port());
  o.force = true;
  enroll_fails(o);
  CHECK(read_file(tree.path("state/agent.key")) == key);
  CHECK(read_file(tree.path("state/agent.pem")) == cert);
  CHECK(names_in(tree.path("state")) == std::set<std::string>{"agent.key", "agent.pem", "ca.pem"});  // no leftovers
  CHECK(state_still_connects(tree));
}

TEST_CASE("a forced enrollment the collector refuses keeps the old key and certificate, still usable") {
  t::TempTree tree;
  enrolled_before(tree);
  const std::string key = read_file(tree.path("state/agent.key"));
  const std::string cert = read_file(tree.path("state/agent.pem"));
  const t::SServer refusing(t::TestPki::get());  // demands a client certificate enroll does not have
  EnrollOptions o = options_for(tree.path("state"), refusing.port());
  o.force = true;
  o.config_out = tree.path("agent.yaml");
  enroll_fails(o);
  CHECK(read_file(tree.path("state/agent.key")) == key);
  CHECK(read_file(tree.path("state/agent.pem")) == cert);
  CHECK(names_in(tree.path("state")) == std::set<std::string>{"agent.key", "agent.pem", "ca.pem"});
  CHECK(names_in(tree.path()) == std::set<std::string>{"state"});  // no config written either
  CHECK(state_still_connects(tree));
}

TEST_CASE("an enrollment killed while it waits for the collector leaves no key on disk") {
  t::TempTree tree;
  SilentListener hanging;
  const EnrollOptions o = options_for(tree.path("state"), hanging.port());
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      enroll(o);
    } catch (...) {  // the child's outcome is not looked at: it is killed
    }
    ::_exit(0);
  }
  // The child connects only after it has made its key and CSR.
  const bool connected = hanging.accept_one();
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(connected);
  CHECK(names_in(tree.path("state")).empty());
  CHECK(mode_of(tree.path("state")) == 0700);
}

TEST_CASE("every directory enroll makes is 0700 whatever the umask, and an existing one keeps its mode") {
  for (const mode_t umask : {mode_t{022}, mode_t{000}}) {
    CAPTURE(umask);
    t::TempTree tree;
    ::chmod(tree.path().c_str(), 0755);
    const mode_t before = ::umask(umask);
    EnrollOptions o = options_for(tree.path("srv/keyward/agent/state"), t::free_port());
    try {
      enroll(o);
    } catch (const std::runtime_error&) {  // nothing listens: the directories are made before
    }
    ::umask(before);
    CHECK(mode_of(tree.path()) == 0755);
    for (const char* d : {"srv", "srv/keyward", "srv/keyward/agent", "srv/keyward/agent/state"}) {
      CAPTURE(d);
      CHECK(mode_of(tree.path(d)) == 0700);
    }
  }
}

TEST_CASE("files written together are all replaced, or none when one of them cannot be") {
  t::TempTree tree;
  tree.write("a", "old a", 0600);
  tree.write("b", "old b", 0600);
  std::vector<NewFile> files = {{tree.path("a"), "new a", 0600}, {tree.path("b"), "new b", 0640}};
  replace_files_together(files);
  CHECK(read_file(tree.path("a")) == "new a");
  CHECK(read_file(tree.path("b")) == "new b");
  CHECK(mode_of(tree.path("b")) == 0640);

  REQUIRE(::symlink(tree.path("a").c_str(), tree.path("link").c_str()) == 0);
  files = {{tree.path("a"), "newer a", 0600}, {tree.path("b"), "newer b", 0600}, {tree.path("link"), "x", 0600}};
  CHECK_THROWS_AS(replace_files_together(files), std::runtime_error);  // a symlink is refused
  files = {{tree.path("b"), "newer b", 0600}, {tree.path("a"), "newer a", 0600, false}};
  CHECK_THROWS_AS(replace_files_together(files), std::runtime_error);  // `a` exists and must not be replaced
  CHECK(read_file(tree.path("a")) == "new a");
  CHECK(read_file(tree.path("b")) == "new b");
  CHECK(names_in(tree.path()) == std::set<std::string>{"a", "b", "link"});  // no temporaries

  files = {{tree.path("c"), "new c", 0600, false}, {tree.path("link"), "x", 0600}};
  CHECK_THROWS_AS(replace_files_together(files), std::runtime_error);
  CHECK(names_in(tree.path()) == std::set<std::string>{"a", "b", "link"});
}

TEST_CASE("the temporaries an interrupted write left are removed and nothing else") {
  t::TempTree tree;
  tree.write("state/agent.key.0123456789ab.tmp", "half a key", 0600);
  tree.write("state/agent.key.backup", "kept", 0600);
  tree.write("state/agent.key.0123456789ab.tmp.txt", "kept", 0600);
  tree.write("state/other.key.0123456789ab.tmp", "kept", 0600);
  CHECK(remove_leftover_temporaries(tree.path("state/agent.key")) == 1);
  CHECK(names_in(tree.path("state")) ==
        std::set<std::string>{"agent.key.backup", "agent.key.0123456789ab.tmp.txt", "other.key.0123456789ab.tmp"});
}
