// SPDX-License-Identifier: Apache-2.0
#include "file_source.hpp"
#include "mounts.hpp"
#include "support/keygen.hpp"
#include "support/temp_tree.hpp"

#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_cache.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

using namespace keyward::scanner;
namespace t = keyward::test;

namespace {

ScanResult run(const std::string& root, ScanOptions o = {}) {
  o.roots = {root};
  o.threads = 2;
  return scan(o);
}

// Waits until what was just written is older than the cache's racy window: a scan remembers
// only files and directories that did not change in the tick it looked at them.
void settle() {
  std::this_thread::sleep_for(std::chrono::nanoseconds(ScanCache::kRacyNs) + std::chrono::milliseconds(100));
}

std::vector<const Finding*> of_kind(const ScanResult& r, Kind k) {
  std::vector<const Finding*> out;
  for (const auto& f : r.findings)
    if (f.kind == k) out.push_back(&f);
  return out;
}

std::uint64_t skipped(const ScanResult& r, const std::string& reason) {
  auto it = r.stats.skipped.find(reason);
  return it == r.stats.skipped.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("a key and its certificate in different files are paired both ways") {
  t::TempTree tree;
  tree.write("deploy/signing.bin", t::pkcs8_pem(t::ec_p256()), 0600);
  tree.write("certs/a/sign.crt", t::certificate_pem(t::ec_p256(), t::rsa_2048(), "Code Signer", "codeSigning"));
  const auto r = run(tree.path());
  const auto keys = of_kind(r, Kind::private_key);
  const auto certs = of_kind(r, Kind::certificate);
  REQUIRE(keys.size() == 1);
  REQUIRE(certs.size() == 1);
  CHECK(keys[0]->paired_with == std::vector<std::string>{certs[0]->id});
  CHECK(certs[0]->paired_with == std::vector<std::string>{keys[0]->id});
  CHECK(keys[0]->file.mode == 0600);
  CHECK(keys[0]->location.line == 1);
}

TEST_CASE("finding ids are stable across runs and independent of where the tree is mounted") {
  t::TempTree a, b;
  const std::string key = t::pkcs8_pem(t::ec_p256());
  a.write("x/key.pem", key);
  b.write("x/key.pem", key);
  const auto r1 = run(a.path());
  const auto r2 = run(a.path());
  const auto r3 = run(b.path());
  REQUIRE(r1.findings.size() == 1);
  CHECK(r1.findings[0].id == r2.findings[0].id);
  CHECK(r1.findings[0].id == r3.findings[0].id);
  CHECK(r1.findings[0].id.size() == 32);
}

TEST_CASE("the same key twice in one file gets two distinct ids") {
  t::TempTree tree;
  const std::string key = t::pkcs8_pem(t::ec_p256());
  tree.write("twice.pem", key + key);
  const auto r = run(tree.path());
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].id != r.findings[1].id);
  CHECK(r.findings[1].location.line > r.findings[0].location.line);
}

TEST_CASE("FIFOs, sockets and symlinks are skipped without being opened, and a symlink loop ends") {
  t::TempTree tree;
  tree.write("d/key.pem", t::pkcs8_pem(t::ec_p256()));
  REQUIRE(::mkfifo(tree.path("d/fifo").c_str(), 0644) == 0);
  REQUIRE(::symlink("..", tree.path("d/loop").c_str()) == 0);
  REQUIRE(::symlink("key.pem", tree.path("d/link.pem").c_str()) == 0);
  const auto r = run(tree.path());  // a FIFO that were opened would block here forever
  CHECK(of_kind(r, Kind::private_key).size() == 1);
  CHECK(skipped(r, "special_file") == 1);
  CHECK(skipped(r, "symlink") == 2);
}

TEST_CASE("files over --max-size are skipped and counted") {
  t::TempTree tree;
  tree.write("big.bin", std::string(4096, 'a') + t::pkcs8_pem(t::ec_p256()));
  ScanOptions o;
  o.max_size = 1024;
  const auto r = run(tree.path(), o);
  CHECK(r.findings.empty());
  CHECK(skipped(r, "too_large") == 1);
}

TEST_CASE("default excludes skip .git/objects and --exclude globs match names and paths") {
  t::TempTree tree;
  const std::string key = t::pkcs8_pem(t::ec_p256());
  tree.write("repo/.git/objects/ab/cdef", key);
  tree.write("repo/node_modules/pkg/key.pem", key);
  tree.write("repo/build/out/key.pem", key);
  tree.write("repo/src/key.pem", key);
  ScanOptions o;
  o.excludes = {"node_modules", "build/out"};
  const auto r = run(tree.path(), o);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].relative_path == "repo/src/key.pem");
  CHECK(skipped(r, "excluded") == 3);
  ScanOptions all;
  all.default_excludes = false;
  CHECK(run(tree.path(), all).findings.size() == 4);
}

TEST_CASE("certificates in a trust-store path are inventory and are not paired") {
  t::TempTree tree;
  tree.write("etc/ssl/certs/root.pem",
             t::certificate_pem(t::rsa_2048(), t::rsa_2048(), "Root", nullptr, -1, 3650, true));
  ScanOptions o;
  o.trust_store_globs = {"*/etc/ssl/certs/*"};
  const auto r = run(tree.path(), o);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].certificate->trust_store);
  CHECK(r.stats.trust_store_certificates == 1);
}

TEST_CASE("a root that is a file is scanned and a missing root is an error with its reason") {
  t::TempTree tree;
  const auto p = tree.write("only.key", t::traditional_pem(t::rsa_2048()));
  const auto r = run(p);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].relative_path == "only.key");
  ScanOptions o;
  o.roots = {tree.path("missing")};
  CHECK_THROWS_AS(scan(o), std::runtime_error);
  o.roots = {tree.path("missing"), p};
  const auto partial = scan(o);
  CHECK(partial.stats.errors == 1);
  CHECK(partial.findings.size() == 1);
}

TEST_CASE("the mount table skips /proc, /sys and /dev by default") {
  const auto m = keyward::scanner::detail::MountTable::load(true, true);
  CHECK(m.skip.count("/proc") == 1);
  CHECK(m.skip.count("/sys") == 1);
  CHECK(m.skip.count("/dev") == 1);
  const auto none = keyward::scanner::detail::MountTable::load(false, false);
  CHECK(none.skip.count("/proc") == 0);
}

TEST_CASE("scanning a pseudo file system root's parent skips it and finishes") {
  // /dev holds FIFOs and devices; skipping it by default is what keeps `scan /` from hanging.
  ScanOptions o;
  o.roots = {"/"};
  o.excludes = {"/usr", "/var", "/opt",   "/root", "/home", "/tmp",  "/work", "/etc", "/boot",
                "/srv", "/mnt", "/media", "/lib*", "/bin",  "/sbin", "/run",  "/snap"};
  o.threads = 2;
  const auto r = scan(o);
  CHECK(r.complete);
  CHECK(r.stats.skipped.at("pseudo_fs") >= 3);
}

TEST_CASE("a vendored bundle of many root certificates is trust-store inventory wherever it is") {
  t::TempTree tree;
  std::string bundle;
  for (int i = 0; i < 6; ++i) {
    auto k = t::generate("EC", "P-256");
    bundle += t::certificate_pem(k, k, ("Root " + std::to_string(i)).c_str(), nullptr, -1, 3650, true);
  }
  tree.write("vendor/lib/cacert.pem", bundle);
  tree.write("small.pem", bundle.substr(0, bundle.find("-----END CERTIFICATE-----") + 26));
  const auto r = run(tree.path());
  std::size_t trusted = 0;
  for (const auto& f : r.findings) trusted += f.certificate && f.certificate->trust_store;
  CHECK(trusted == 6);
  CHECK(r.findings.size() == 7);
}

TEST_CASE("a file that grows while it is read is read as it was and reported as changed") {
  // /proc files say size 0 and then yield data: the same path as a file appended to mid-read.
  keyward::scanner::detail::ReadBuffer buffer;
  FileFacts facts;
  bool changed = false;
  int err = 0;
  const auto st = keyward::scanner::detail::read_file("/proc/self/status", 1 << 20, buffer, facts, changed, err);
  CHECK(st == keyward::scanner::detail::ReadStatus::ok);
  CHECK(changed);
  CHECK(buffer.size() == 0);
}

TEST_CASE("a file that vanished or is not regular is reported by reason, never opened as data") {
  keyward::scanner::detail::ReadBuffer buffer;
  FileFacts facts;
  bool changed = false;
  int err = 0;
  using keyward::scanner::detail::ReadStatus;
  CHECK(keyward::scanner::detail::read_file("/nonexistent/keyward", 1 << 20, buffer, facts, changed, err) ==
        ReadStatus::vanished);
  t::TempTree tree;
  REQUIRE(::mkfifo(tree.path("fifo").c_str(), 0644) == 0);
  CHECK(keyward::scanner::detail::read_file(tree.path("fifo"), 1 << 20, buffer, facts, changed, err) ==
        ReadStatus::not_regular);
  REQUIRE(::symlink("/etc/hostname", tree.path("link").c_str()) == 0);
  CHECK(keyward::scanner::detail::read_file(tree.path("link"), 1 << 20, buffer, facts, changed, err) ==
        ReadStatus::not_regular);
}

TEST_CASE("the scan cache reuses unchanged files and rescans a rewrite whose mtime was restored") {
  t::TempTree tree;
  tree.write("a/key.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("b/readme.txt", "nothing here\n");
  const std::string target = tree.write("c/swap.pem", t::pkcs8_pem(t::ec_p256()));
  const std::string cache_file = tree.path("cache");
  settle();
  ScanOptions o;
  o.roots = {tree.path("a"), tree.path("b"), tree.path("c")};
  o.threads = 2;
  const std::string fp = ScanCache::fingerprint(o);
  {
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    const auto first = scan(o);
    CHECK(first.stats.files_cached == 0);
    CHECK(first.findings.size() == 2);
    cache.save(cache_file);
  }
  struct stat st {};
  REQUIRE(::stat(cache_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Rewrite c/swap.pem with another key and put its mtime back: only ctime tells.
  REQUIRE(::stat(target.c_str(), &st) == 0);
  const auto other = t::generate("EC", "P-256");
  tree.write("c/swap.pem", t::pkcs8_pem(other));
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, target.c_str(), times, 0) == 0);

  auto cache = ScanCache::load(cache_file, fp);
  CHECK(cache.loaded_entries() == 3);
  o.cache = &cache;
  const auto second = scan(o);
  CHECK(second.stats.files_cached == 2);
  REQUIRE(second.findings.size() == 2);
  bool saw_new_key = false;
  for (const auto& f : second.findings) saw_new_key |= f.key->spki_sha256 == t::spki_sha256(other);
  CHECK(saw_new_key);

  // Another option that changes results voids the whole cache.
  ScanOptions changed = o;
  changed.max_size = 1024;
  CHECK(ScanCache::load(cache_file, ScanCache::fingerprint(changed)).loaded_entries() == 0);
}

TEST_CASE("a rescan that changed nothing leaves the cache file untouched and a deleted file rewrites it") {
  t::TempTree tree;
  tree.write("a/key.pem", t::pkcs8_pem(t::ec_p256()));
  const std::string gone = tree.write("a/notes.txt", "nothing here\n");
  const std::string cache_file = tree.path("cache");
  settle();
  ScanOptions o;
  o.roots = {tree.path("a")};
  const std::string fp = ScanCache::fingerprint(o);
  auto inode_of = [&] {
    struct stat st {};
    REQUIRE(::stat(cache_file.c_str(), &st) == 0);
    return st.st_ino;
  };
  {
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    scan(o);
    cache.save(cache_file);
  }
  const auto first = inode_of();  // save() writes a temp file and renames it: a new inode each time
  {
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    CHECK(scan(o).stats.files_cached == 2);
    cache.save(cache_file);
  }
  CHECK(inode_of() == first);
  REQUIRE(::unlink(gone.c_str()) == 0);
  {
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    CHECK(scan(o).stats.files_cached == 1);
    cache.save(cache_file);
  }
  CHECK(inode_of() != first);
  CHECK(ScanCache::load(cache_file, fp).loaded_entries() == 1);
}

namespace {

// Scans `o` with the cache file, saves it, and returns the result.
ScanResult cached_scan(ScanOptions o, const std::string& cache_file) {
  auto cache = ScanCache::load(cache_file, ScanCache::fingerprint(o));
  o.cache = &cache;
  auto r = scan(o);
  cache.save(cache_file);
  return r;
}

std::vector<std::string> relative_paths(const ScanResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.relative_path);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("a rescan lists unchanged directories from the cache and sees entries added, removed and swapped") {
  t::TempTree tree, state;
  tree.write("a/one.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("a/sub/two.pem", t::pkcs8_pem(t::ed25519()));
  tree.write("b/notes.txt", "nothing here\n");
  settle();
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 2;
  const std::string cache_file = state.path("cache");
  const auto first = cached_scan(o, cache_file);
  CHECK(first.stats.dirs_seen == 4);
  CHECK(first.stats.dirs_cached == 0);
  CHECK(relative_paths(first) == std::vector<std::string>{"a/one.pem", "a/sub/two.pem"});

  const auto second = cached_scan(o, cache_file);
  CHECK(second.stats.dirs_seen == 4);
  CHECK(second.stats.dirs_cached == 4);  // no directory opened or read
  CHECK(second.stats.files_cached == 3);
  CHECK(second.stats.files_scanned == 0);
  REQUIRE(second.findings.size() == first.findings.size());
  for (std::size_t i = 0; i < first.findings.size(); ++i)
    CHECK(to_json(second.findings[i]).dump() == to_json(first.findings[i]).dump());

  // A new file in a (its directory's mtime moves), a file gone from a/sub, and b swapped for a
  // symlink to a (the root's entries change): each is seen although their files are unchanged.
  const auto rsa = t::generate("RSA", "2048");
  tree.write("a/three.pem", t::pkcs8_pem(rsa));
  REQUIRE(::unlink(tree.path("a/sub/two.pem").c_str()) == 0);
  REQUIRE(::unlink(tree.path("b/notes.txt").c_str()) == 0);
  REQUIRE(::rmdir(tree.path("b").c_str()) == 0);
  REQUIRE(::symlink(tree.path("a").c_str(), tree.path("b").c_str()) == 0);
  const auto third = cached_scan(o, cache_file);
  CHECK(relative_paths(third) == std::vector<std::string>{"a/one.pem", "a/three.pem"});
  CHECK(third.stats.dirs_seen == 3);
  CHECK(third.stats.dirs_cached == 0);
  CHECK(third.stats.files_cached == 1);  // a/one.pem
  CHECK(third.stats.skipped.at("symlink") == 1);
  bool saw_rsa = false;
  for (const auto& f : third.findings) saw_rsa |= f.key && f.key->spki_sha256 == t::spki_sha256(rsa);
  CHECK(saw_rsa);
}

TEST_CASE("a file or directory seen in the tick it changed is read again on the next scan") {
  t::TempTree tree, state;
  tree.write("a/one.pem", t::pkcs8_pem(t::ec_p256()));
  ScanOptions o;
  o.roots = {tree.path("a")};
  const std::string cache_file = state.path("cache");
  cached_scan(o, cache_file);  // right after the write: its change may not have shown yet
  CHECK(ScanCache::load(cache_file, ScanCache::fingerprint(o)).loaded_entries() == 0);
  const auto again = cached_scan(o, cache_file);
  CHECK(again.stats.files_cached == 0);
  CHECK(again.stats.dirs_cached == 0);
  CHECK(again.findings.size() == 1);
  settle();
  cached_scan(o, cache_file);
  const auto settled = cached_scan(o, cache_file);
  CHECK(settled.stats.files_cached == 1);
  CHECK(settled.stats.dirs_cached == 1);
  CHECK(settled.findings.size() == 1);
}

TEST_CASE("a rescan reports what the cached files' scans counted: rejected blocks and trust-store certificates") {
  t::TempTree tree, state;
  // A complete PEM block whose body is not a key: rejected, counted, not a finding.
  tree.write("broken.pem", std::string("-----BEGIN ") + "PRIVATE KEY-----\n" + std::string(64, 'A') + "\n-----END " +
                               "PRIVATE KEY-----\n");
  tree.write("ok.pem", t::pkcs8_pem(t::ec_p256()));
  settle();
  ScanOptions o;
  o.roots = {tree.path()};
  const std::string cache_file = state.path("cache");
  const auto first = cached_scan(o, cache_file);
  REQUIRE(!first.stats.rejected.empty());
  const auto second = cached_scan(o, cache_file);
  CHECK(second.stats.files_cached == 2);
  CHECK(second.stats.rejected == first.stats.rejected);
  CHECK(second.stats.skipped == first.stats.skipped);
  CHECK(second.findings.size() == first.findings.size());
}

TEST_CASE("a file given as a root is remembered and reused like a listed one") {
  t::TempTree tree, state;
  const std::string key = tree.write("one.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("dir/two.pem", t::pkcs8_pem(t::ed25519()));
  settle();
  ScanOptions o;
  o.roots = {key, tree.path("dir")};
  const std::string cache_file = state.path("cache");
  CHECK(cached_scan(o, cache_file).stats.files_cached == 0);
  const auto again = cached_scan(o, cache_file);
  CHECK(again.stats.files_cached == 2);
  CHECK(again.stats.dirs_cached == 1);
  CHECK(relative_paths(again) == std::vector<std::string>{"one.pem", "two.pem"});
}

TEST_CASE("the cache never overwrites a file that is not a cache, and replaces an empty one or an old version") {
  t::TempTree tree, state;
  tree.write("one.pem", t::pkcs8_pem(t::ec_p256()));
  settle();
  ScanOptions o;
  o.roots = {tree.path()};
  const std::string notes = state.write("notes.txt", "my notes\n");
  auto cache = ScanCache::load(notes, ScanCache::fingerprint(o));
  CHECK(cache.loaded_entries() == 0);
  o.cache = &cache;
  scan(o);
  CHECK_THROWS_WITH_AS(cache.save(notes), doctest::Contains("is not a keyward cache file"), std::runtime_error);
  std::ifstream in(notes);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "my notes\n");
  for (const std::string& content : {std::string(), std::string("keyward-cache v2 0123\n")}) {
    const std::string path = state.write("replaceable", content);
    CHECK_NOTHROW(cached_scan(o, path));
    CHECK(ScanCache::load(path, ScanCache::fingerprint(o)).loaded_entries() == 1);
  }
}

TEST_CASE("a damaged cache file is ignored whole and the scan reads everything") {
  t::TempTree tree, state;
  tree.write("a/one.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("a/two.txt", "nothing here\n");
  settle();
  ScanOptions o;
  o.roots = {tree.path("a")};
  const std::string fp = ScanCache::fingerprint(o);
  const std::string cache_file = state.path("cache");
  cached_scan(o, cache_file);
  std::string bytes;
  {
    std::ifstream in(cache_file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(ScanCache::parse(bytes, fp).loaded_entries() == 2);
  CHECK(ScanCache::parse(bytes.substr(0, bytes.size() - 1), fp).loaded_entries() == 0);  // truncated
  CHECK(ScanCache::parse(bytes + "x", fp).loaded_entries() == 0);                        // grown
  CHECK(ScanCache::parse(std::string(bytes.size(), 'x'), fp).loaded_entries() == 0);     // garbage
  CHECK(ScanCache::parse(bytes, std::string(64, '0')).loaded_entries() == 0);            // other options
  // A truncated file on disk: the scan reads every file again and finds the same.
  {
    std::ofstream out(cache_file, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() / 2);
  }
  auto cache = ScanCache::load(cache_file, fp);
  CHECK(cache.loaded_entries() == 0);
  o.cache = &cache;
  const auto r = scan(o);
  CHECK(r.stats.files_cached == 0);
  CHECK(r.stats.files_scanned == 2);
  CHECK(r.findings.size() == 1);
}
