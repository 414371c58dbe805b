// SPDX-License-Identifier: Apache-2.0
// openssh-key-v1 containers holding a key type this build has no parser for (OpenSSH's
// post-quantum hybrids, any newer name): reported as private keys by the type name the container
// gives, encrypted or not (scanner/src/detectors/openssh.cpp, docs/scan.md). The containers are
// written at test time by a Python script following OpenSSH's PROTOCOL.key, with random bytes of
// the hybrid's sizes as key material; the expected fingerprint is computed by that script. A key
// ssh-keygen writes is checked against ssh-keygen's own fingerprint, as before.
#include "support/python_check.hpp"
#include "support/temp_tree.hpp"

#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace keyward::scanner;
namespace t = keyward::test;

namespace {

// argv: type, "none" or "aes256-ctr", output path. Writes the armoured key to the output and
// the SSH fingerprint of its public blob to output + ".fp".
constexpr const char* kWriter = R"py(
import base64, hashlib, os, struct, sys

def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack(">I", len(b)) + b

typ, cipher, out = sys.argv[2], sys.argv[3], sys.argv[4]
pk = os.urandom(1312 + 32)  # ML-DSA-44 public key, then the Ed25519 one
sk = os.urandom(32 + 64)    # ML-DSA-44 seed, then the Ed25519 private key
pub = s(typ) + s(pk)
head = b"openssh-key-v1\0"
if cipher == "none":
    check = os.urandom(4)
    priv = check + check + s(typ) + s(pk) + s(sk) + s("pq-comment-marker")
    pad = 1
    while len(priv) % 8:
        priv += bytes([pad])
        pad += 1
    body = head + s("none") + s("none") + s(b"") + struct.pack(">I", 1) + s(pub) + s(priv)
else:
    kdf = s(os.urandom(16)) + struct.pack(">I", 24)
    size = 8 + len(s(typ)) + len(s(pk)) + len(s(sk)) + 4
    body = head + s(cipher) + s("bcrypt") + s(kdf) + struct.pack(">I", 1) + s(pub) + s(os.urandom(size + 16 - size % 16))
text = base64.b64encode(body).decode()
label = "OPENSSH PRIVATE " + "KEY"
with open(out, "w") as f:
    f.write("-----BEGIN " + label + "-----\n")
    for i in range(0, len(text), 70):
        f.write(text[i:i + 70] + "\n")
    f.write("-----END " + label + "-----\n")
with open(out + ".fp", "w") as f:
    f.write("SHA256:" + base64.b64encode(hashlib.sha256(pub).digest()).decode().rstrip("="))
)py";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes one container with the Python writer; returns its expected fingerprint.
std::string write_key(const t::TempTree& tree, const std::string& name, const std::string& type,
                      const std::string& cipher) {
  const auto run = t::run_python(kWriter, "", {type, cipher, tree.path(name)});
  REQUIRE_MESSAGE(run.status == 0, run.output);
  return slurp(tree.path(name) + ".fp");
}

ScanResult run(const std::string& root) {
  ScanOptions o;
  o.roots = {root};
  o.threads = 2;
  return scan(o);
}

const Finding& at(const ScanResult& r, const std::string& path) {
  for (const auto& f : r.findings)
    if (f.location.path == path) return f;
  FAIL("no finding at " << path);
  return r.findings.front();
}

}  // namespace

TEST_CASE("an openssh-key-v1 key of a type this build does not know is a private key named by its type") {
  t::TempTree tree;
  const std::string hybrid = "ssh-mldsa44-ed25519@openssh.com";
  const std::string fp_plain = write_key(tree, "id_pq", hybrid, "none");
  const std::string fp_enc = write_key(tree, "id_pq_enc", hybrid, "aes256-ctr");
  const std::string fp_other = write_key(tree, "id_new", "x-future-sig-2031@example.org", "none");
  const auto r = run(tree.path());
  CHECK(r.findings.size() == 3);
  CHECK(r.stats.rejected.empty());

  const Finding& plain = at(r, tree.path("id_pq"));
  CHECK(plain.kind == Kind::private_key);
  CHECK(plain.format == Format::openssh);
  CHECK(plain.rule == "private-key/openssh");
  REQUIRE(plain.key.has_value());
  CHECK(plain.key->algorithm == hybrid);
  CHECK_FALSE(plain.key->encrypted);
  CHECK_FALSE(plain.key->protection.has_value());
  CHECK_FALSE(plain.key->bits.has_value());
  CHECK(plain.key->spki_sha256.empty());
  CHECK(plain.key->ssh_fingerprint == fp_plain);
  // Its private layout is unknown: no string of the section is taken for a comment.
  CHECK(plain.key->comment.empty());
  CHECK(to_json(plain).dump().find("pq-comment-marker") == std::string::npos);

  const Finding& enc = at(r, tree.path("id_pq_enc"));
  CHECK(enc.kind == Kind::private_key);
  REQUIRE(enc.key.has_value());
  CHECK(enc.key->algorithm == hybrid);
  CHECK(enc.key->encrypted);
  REQUIRE(enc.key->protection.has_value());
  CHECK(enc.key->protection->cipher == "aes256-ctr");
  CHECK(enc.key->protection->kdf == "bcrypt");
  CHECK(enc.key->protection->kdf_iterations == 24u);
  CHECK(enc.key->ssh_fingerprint == fp_enc);

  const Finding& other = at(r, tree.path("id_new"));
  REQUIRE(other.key.has_value());
  CHECK(other.key->algorithm == "x-future-sig-2031@example.org");
  CHECK(other.key->ssh_fingerprint == fp_other);
  // Three different keys, three identities.
  CHECK(plain.identity != enc.identity);
  CHECK(plain.identity != other.identity);
}

TEST_CASE("a key ssh-keygen writes still parses with its own algorithm, comment and fingerprint") {
  t::TempTree tree;
  const std::string cmd =
      "cd " + t::shell_quote(tree.path()) +
      " && ssh-keygen -q -t ed25519 -N '' -C 'kept comment' -f id_ed25519 >/dev/null 2>&1"
      " && ssh-keygen -lf id_ed25519.pub | awk '{print $2}' | tr -d '\\n' > fp && rm id_ed25519.pub";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string fp = slurp(tree.path("fp"));
  std::remove(tree.path("fp").c_str());
  const auto r = run(tree.path());
  REQUIRE(r.findings.size() == 1);
  const Finding& f = r.findings[0];
  CHECK(f.kind == Kind::private_key);
  CHECK(f.format == Format::openssh);
  REQUIRE(f.key.has_value());
  CHECK(f.key->algorithm == "ed25519");
  CHECK(f.key->comment == "kept comment");
  CHECK_FALSE(f.key->spki_sha256.empty());
  CHECK(f.key->ssh_fingerprint == fp);
  CHECK(f.identity == f.key->spki_sha256);
}
