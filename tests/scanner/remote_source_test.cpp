// SPDX-License-Identifier: Apache-2.0
// Remote scans (scanner/src/walk/remote_source.*, remote_fs.hpp): a RemoteFileSystem over a local
// directory, with faults injected, is the reference. Scanning a tree through it gives what a local
// scan of the same tree gives (ids, paths, stats), plus the host; remote mount tables, permission
// errors and a lost connection behave as the contract says.
#include <keyward/scanner/remote_fs.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_cache.hpp>
#include "mounts.hpp"
#include "support/keygen.hpp"
#include "support/python_check.hpp"
#include "support/temp_tree.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

using namespace keyward::scanner;
namespace d = keyward::scanner::detail;
namespace t = keyward::test;

namespace {

constexpr const char* kHost = "build-1:2222";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

RemoteStatus status_of(int e) {
  if (e == ENOENT) return RemoteStatus::not_found;
  if (e == EACCES || e == EPERM) return RemoteStatus::permission_denied;
  if (e == ENOTDIR) return RemoteStatus::not_directory;
  return RemoteStatus::failed;
}

RemoteType type_of(mode_t m) {
  return S_ISREG(m)   ? RemoteType::regular
         : S_ISDIR(m) ? RemoteType::directory
         : S_ISLNK(m) ? RemoteType::symlink
                      : RemoteType::other;
}

// This machine's files as a remote host's, the paths unchanged (so a local scan of the same tree
// is the reference): attributes as SFTP v3 gives them (whole-second mtimes, no device or inode
// numbers), the owner named `owner`. Every operation passes `gate`: a fault hook, and a
// connection lost after `lose_after` operations (then every operation fails).
class LocalDirFs final : public RemoteFileSystem {
 public:
  std::string mount_text;
  std::string owner = "remote-builder";
  std::function<RemoteStatus(std::string_view op, const std::string& path)> fault;  // ok: no fault
  long lose_after = -1;
  std::atomic<long> ops{0}, refused{0};

  RemoteStatus stat(const std::string& path, bool follow, RemoteEntry& out, int& err) override {
    if (const auto g = gate("stat", path, err); g != RemoteStatus::ok) return g;
    struct stat st {};
    if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0) return fail(err);
    out = entry_of("", st);
    return RemoteStatus::ok;
  }
  RemoteStatus list(const std::string& path, std::vector<RemoteEntry>& out, int& err) override {
    if (const auto g = gate("list", path, err); g != RemoteStatus::ok) return g;
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return fail(err);
    out.clear();
    while (const dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      struct stat st {};
      if (name == "." || name == ".." || ::lstat((path + "/" + name).c_str(), &st) != 0) continue;
      out.push_back(entry_of(name, st));
    }
    ::closedir(dir);
    return RemoteStatus::ok;
  }
  RemoteStatus open(const std::string& path, std::unique_ptr<RemoteFile>& out, int& err) override {
    if (const auto g = gate("open", path, err); g != RemoteStatus::ok) return g;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fail(err);
    out = std::make_unique<File>(*this, path, fd);
    return RemoteStatus::ok;
  }
  std::string mountinfo() override { return mount_text; }
  bool lost() const override { return lost_.load(); }

  // The reads asked of each file: (offset, n).
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::size_t>>> reads() {
    std::lock_guard lock(mu_);
    return reads_;
  }

 private:
  class File final : public RemoteFile {
   public:
    File(LocalDirFs& fs, std::string path, int fd) : fs_(fs), path_(std::move(path)), fd_(fd) {}
    ~File() override { ::close(fd_); }
    RemoteStatus read(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) override {
      if (const auto g = fs_.gate("read", path_, err); g != RemoteStatus::ok) return g;
      {
        std::lock_guard lock(fs_.mu_);
        fs_.reads_[path_].emplace_back(offset, n);
      }
      got = 0;
      while (got < n) {
        const ssize_t r = ::pread(fd_, dst + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0) return fs_.fail(err);
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
      }
      return RemoteStatus::ok;
    }

   private:
    LocalDirFs& fs_;
    std::string path_;
    int fd_;
  };

  RemoteEntry entry_of(std::string name, const struct stat& st) const {
    RemoteEntry e;
    e.name = std::move(name);
    e.type = type_of(st.st_mode);
    e.size = static_cast<std::uint64_t>(st.st_size);
    e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000;
    e.mode = st.st_mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.owner = owner;
    return e;
  }
  RemoteStatus fail(int& err) const {
    err = errno;
    return status_of(err);
  }
  RemoteStatus gate(std::string_view op, const std::string& path, int& err) {
    if (lose_after >= 0 && ++ops > lose_after) lost_ = true;
    if (lost_) {
      ++refused;
      err = ECONNRESET;
      return RemoteStatus::failed;
    }
    if (fault) {
      if (const auto st = fault(op, path); st != RemoteStatus::ok) {
        err = st == RemoteStatus::permission_denied ? EACCES : EIO;
        return st;
      }
    }
    return RemoteStatus::ok;
  }

  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::size_t>>> reads_;
};

// Keys in nested directories and a store-less certificate for one of them, plain text, a file
// over the size limit, an excluded directory, symlinks to a key and to a directory, and a FIFO.
struct MixedTree {
  t::TempTree tree;
  MixedTree() {
    const auto a = t::generate("EC", "P-256");
    tree.write("keys/a.pem", t::pkcs8_pem(a));
    tree.write("keys/a.crt", t::certificate_pem(a, a, "a"));
    tree.write("keys/deep/er/b.pem", t::pkcs8_pem(t::ed25519()));
    tree.write("keys/deep/copy.pem", t::pkcs8_pem(a) + "\nagain:\n" + t::pkcs8_pem(a));
    tree.write("notes.txt", "nothing here\n");
    tree.write("big/large.pem", std::string(9000, '#') + t::pkcs8_pem(t::ec_p256()));
    tree.write("skipme/hidden.pem", t::pkcs8_pem(t::ec_p256()));
    ::symlink(tree.path("keys/a.pem").c_str(), tree.path("link.pem").c_str());
    ::symlink(tree.path("keys").c_str(), tree.path("linkdir").c_str());
    ::mkfifo(tree.path("pipe").c_str(), 0600);
  }
  ScanOptions options() const {
    ScanOptions o;
    o.roots = {tree.path()};
    o.excludes = {"skipme"};
    o.max_size = 8192;
    o.threads = 2;
    return o;
  }
};

std::set<std::string> ids(const ScanResult& r) {
  std::set<std::string> out;
  for (const auto& f : r.findings) out.insert(f.id);
  return out;
}

std::set<std::string> names(const ScanResult& r, const std::string& root) {
  std::set<std::string> out;
  for (const auto& f : r.findings) out.insert(f.location.path.substr(root.size() + 1));
  return out;
}

// Three directories on their own "mounts" of a remote mountinfo, each with a key, and a key at the top.
struct MountTree {
  t::TempTree tree;
  MountTree() {
    tree.write("top.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("procfs/self/k.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("share/k.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("data/k.pem", t::pkcs8_pem(t::ec_p256()));
  }
  std::string mountinfo() const {
    return "21 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
           "22 21 0:21 / " +
           tree.path("procfs") +
           " rw,nosuid - proc proc rw\n"
           "23 21 0:50 / " +
           tree.path("share") +
           " rw - nfs4 server:/export rw\n"
           "24 21 8:17 / " +
           tree.path("data") + " rw shared:5 - ext4 /dev/sdb1 rw\n";
  }
};

}  // namespace

TEST_CASE("a remote scan finds what a local scan of the same tree finds: same ids, paths and counts") {
  MixedTree mt;
  const ScanOptions o = mt.options();
  const ScanResult local = scan(o);
  LocalDirFs fs;
  const ScanResult remote = scan(o, fs, kHost);

  CHECK(remote.complete);
  CHECK(remote.host.hostname == kHost);
  REQUIRE(remote.findings.size() == local.findings.size());
  CHECK(remote.findings.size() == 5);  // a, its certificate, b, and a twice in copy.pem
  CHECK(ids(remote) == ids(local));
  for (std::size_t i = 0; i < local.findings.size(); ++i) {
    const Finding& l = local.findings[i];
    const Finding& r = remote.findings[i];
    CHECK(r.id == l.id);
    CHECK(r.location.path == l.location.path);
    CHECK(r.location.line == l.location.line);
    CHECK(r.location.offset == l.location.offset);
    CHECK(r.relative_path == l.relative_path);
    CHECK(r.paired_with == l.paired_with);
    CHECK(r.location.host == kHost);
    CHECK(l.location.host.empty());
    CHECK(r.file.mode == l.file.mode);
    CHECK(r.file.uid == l.file.uid);
    CHECK(r.file.size == l.file.size);
    CHECK(r.file.mtime == l.file.mtime);
    CHECK(r.file.owner == "remote-builder");  // the server's name for the owner, never a local lookup
  }
  CHECK(remote.stats.files_seen == local.stats.files_seen);
  CHECK(remote.stats.files_scanned == local.stats.files_scanned);
  CHECK(remote.stats.bytes_scanned == local.stats.bytes_scanned);
  CHECK(remote.stats.dirs_seen == local.stats.dirs_seen);
  CHECK(remote.stats.errors == local.stats.errors);
  CHECK(remote.stats.skipped == local.stats.skipped);
  // What the comparison covers: symlinks (file and directory) not followed, the FIFO, the
  // excluded directory and the file over max_size.
  CHECK(remote.stats.skipped.at("symlink") == 2);
  CHECK(remote.stats.skipped.at("special_file") == 1);
  CHECK(remote.stats.skipped.at("excluded") == 1);
  CHECK(remote.stats.skipped.at("too_large") == 1);
  CHECK(names(remote, mt.tree.path()) ==
        std::set<std::string>{"keys/a.pem", "keys/a.crt", "keys/deep/er/b.pem", "keys/deep/copy.pem"});
}

TEST_CASE("a remote file is read whole in one read of its size and one byte more") {
  MixedTree mt;
  LocalDirFs fs;
  scan(mt.options(), fs, kHost);
  const auto reads = fs.reads();
  const std::string path = mt.tree.path("keys/deep/er/b.pem");
  REQUIRE(reads.count(path) == 1);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(reads.at(path) == std::vector<std::pair<std::uint64_t, std::size_t>>{{0, st.st_size + 1}});
  CHECK(reads.count(mt.tree.path("skipme/hidden.pem")) == 0);
  CHECK(reads.count(mt.tree.path("big/large.pem")) == 0);
}

TEST_CASE("a remote file's owner is the name the server gives, else empty: a remote uid is never looked up here") {
  t::TempTree tree;
  tree.write("k.pem", t::pkcs8_pem(t::ec_p256()));
  ScanOptions o;
  o.roots = {tree.path()};
  const auto local = scan(o);
  REQUIRE(local.findings.size() == 1);
  REQUIRE_FALSE(local.findings[0].file.owner.empty());  // this machine knows the uid
  LocalDirFs fs;
  fs.owner = "";
  const auto remote = scan(o, fs, kHost);
  REQUIRE(remote.findings.size() == 1);
  CHECK(remote.findings[0].file.owner.empty());
  CHECK(remote.findings[0].file.uid == local.findings[0].file.uid);
}

TEST_CASE("a remote directory that cannot be listed and a file that cannot be opened are counted, the rest scanned") {
  t::TempTree tree;
  tree.write("open/k.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("locked/k.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("open/secret.pem", t::pkcs8_pem(t::ec_p256()));
  LocalDirFs fs;
  fs.fault = [](std::string_view op, const std::string& path) {
    if (op == "list" && ends_with(path, "/locked")) return RemoteStatus::permission_denied;
    if (op == "open" && ends_with(path, "/secret.pem")) return RemoteStatus::permission_denied;
    return RemoteStatus::ok;
  };
  ScanOptions o;
  o.roots = {tree.path()};
  const auto r = scan(o, fs, kHost);
  CHECK(r.complete);
  CHECK(names(r, tree.path()) == std::set<std::string>{"open/k.pem"});
  CHECK(r.stats.skipped.at("permission_denied") == 2);
  CHECK(r.stats.dirs_seen == 3);  // the root, open and locked: seen, one not listed
  CHECK(r.stats.errors == 2);
  std::set<std::string> failed;
  for (const auto& e : r.errors) failed.insert(e.path.substr(tree.path().size() + 1));
  CHECK(failed == std::set<std::string>{"locked", "open/secret.pem"});
}

TEST_CASE("a remote root that cannot be stat-ed is an error, with no root left the scan throws") {
  t::TempTree tree;
  tree.write("k.pem", t::pkcs8_pem(t::ec_p256()));
  LocalDirFs fs;
  ScanOptions o;
  o.roots = {tree.path("missing")};
  CHECK_THROWS_AS(scan(o, fs, kHost), std::runtime_error);
  o.roots = {tree.path("missing"), tree.path("k.pem")};
  const auto r = scan(o, fs, kHost);
  CHECK(r.stats.errors == 1);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].relative_path == "k.pem");
  CHECK(r.findings[0].location.host == kHost);

  // Roots are stat-ed through the remote file system, not this machine's.
  fs.fault = [&](std::string_view op, const std::string& path) {
    return op == "stat" && path == tree.path() ? RemoteStatus::permission_denied : RemoteStatus::ok;
  };
  o.roots = {tree.path()};
  try {
    scan(o, fs, kHost);
    FAIL("a root the remote side refuses is scanned");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("Permission denied") != std::string::npos);
  }
}

TEST_CASE("a connection lost mid-scan stops the walk: the result is incomplete, nothing crashes") {
  t::TempTree tree;
  for (int i = 0; i < 40; ++i) tree.write("d" + std::to_string(i) + "/k.pem", t::pkcs8_pem(t::ec_p256()));
  for (unsigned threads : {1u, 2u}) {
    CAPTURE(threads);
    LocalDirFs fs;
    fs.lose_after = 30;
    ScanOptions o;
    o.roots = {tree.path()};
    o.threads = threads;
    const auto r = scan(o, fs, kHost);
    CHECK_FALSE(r.complete);
    CHECK(fs.lost());
    CHECK(r.findings.size() < 40);
    // The walk stops once the file system is lost: each worker ends at most the item it holds,
    // rather than asking for each of the 40 directories and files still queued.
    CHECK(fs.refused.load() <= 4 * static_cast<long>(threads));
  }
}

TEST_CASE("mount tables parse from mountinfo text: pseudo and network file systems, and the mount holding a path") {
  const std::string text =
      "21 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "22 21 0:21 / /proc rw,nosuid,nodev,noexec - proc proc rw\n"
      "23 21 0:50 / /mnt/nfs rw - nfs4 server:/x rw\n"
      "24 21 8:17 / /srv/data\\040x rw shared:7 - ext4 /dev/sdb1 rw\n"
      "garbage line\n";
  const auto m = d::MountTable::parse(text, true, true);
  CHECK(m.skip.at("/proc") == SkipReason::pseudo_fs);
  CHECK(m.skip.at("/mnt/nfs") == SkipReason::network_fs);
  CHECK(m.skip.count("/srv/data x") == 0);
  CHECK(m.skip.at("/sys") == SkipReason::pseudo_fs);  // not in the text: skipped by path all the same
  CHECK(m.points == std::vector<std::string>{"/", "/proc", "/mnt/nfs", "/srv/data x"});
  CHECK(m.device_of("/srv/data x/k.pem") == 4);
  CHECK(m.device_of("/srv/data x") == 4);
  CHECK(m.device_of("/srv/data xy/k.pem") == 1);
  CHECK(m.device_of("/etc/ssl") == 1);
  CHECK(d::MountTable::parse(text, false, false).skip.empty());
  // A host whose mountinfo could not be read: its kernel file systems are still not walked.
  const auto none = d::MountTable::parse("", true, true);
  CHECK(none.skip.size() == 3);
  CHECK(none.skip.at("/proc") == SkipReason::pseudo_fs);
  CHECK(d::MountTable::parse("", false, true).skip.empty());
  CHECK(none.device_of("/anything") == 0);
}

TEST_CASE("a remote mountinfo decides what is skipped as pseudo or network, and where --one-file-system stops") {
  MountTree mt;
  LocalDirFs fs;
  fs.mount_text = mt.mountinfo();
  ScanOptions o;
  o.roots = {mt.tree.path()};
  auto r = scan(o, fs, kHost);
  CHECK(names(r, mt.tree.path()) == std::set<std::string>{"top.pem", "data/k.pem"});
  CHECK(r.stats.skipped.at("pseudo_fs") == 1);
  CHECK(r.stats.skipped.at("network_fs") == 1);

  o.one_file_system = true;
  r = scan(o, fs, kHost);
  CHECK(names(r, mt.tree.path()) == std::set<std::string>{"top.pem"});
  CHECK(r.stats.skipped.at("other_file_system") == 1);

  // A root on a mount of its own is walked: one-file-system compares with the root's mount.
  o.roots = {mt.tree.path("data")};
  r = scan(o, fs, kHost);
  CHECK(r.findings.size() == 1);

  // No mountinfo from the host: nothing skipped by mount, one device for everything.
  fs.mount_text.clear();
  o.roots = {mt.tree.path()};
  r = scan(o, fs, kHost);
  CHECK(names(r, mt.tree.path()) == std::set<std::string>{"top.pem", "procfs/self/k.pem", "share/k.pem", "data/k.pem"});
  CHECK(r.stats.skipped.count("other_file_system") == 0);
}

TEST_CASE("a remote store's neighbours are read through the remote file system, never from this machine's disk") {
  // A store under the password in gradle.properties beside it: the remote scan opens it as the
  // local one does (same id, same exposing file). When the remote side refuses that file, the
  // store stays locked even though the same path is readable here.
  t::TempTree tree;
  const std::string cmd = "cd " + t::shell_quote(tree.path()) +
                          " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem "
                          "-out c.pem -days 30 -subj /CN=t >/dev/null 2>&1 && openssl pkcs12 -export -inkey k.pem "
                          "-in c.pem -passout pass:Beside-It-91 -out app.p12 && rm k.pem c.pem";
  REQUIRE(std::system(cmd.c_str()) == 0);
  tree.write("gradle.properties", "storePassword=Beside-It-91\n");
  ScanOptions o;
  o.roots = {tree.path()};
  const auto local = scan(o);
  REQUIRE(local.findings.size() == 1);
  REQUIRE(local.findings[0].store.has_value());
  CHECK(local.findings[0].store->opened);
  CHECK(local.findings[0].store->password_exposed_in == tree.path("gradle.properties"));

  LocalDirFs fs;
  auto remote = scan(o, fs, kHost);
  REQUIRE(remote.findings.size() == 1);
  CHECK(remote.findings[0].id == local.findings[0].id);
  REQUIRE(remote.findings[0].store.has_value());
  CHECK(remote.findings[0].store->opened);
  CHECK(remote.findings[0].store->password_exposed_in == tree.path("gradle.properties"));

  fs.fault = [](std::string_view op, const std::string& path) {
    return op == "open" && ends_with(path, "/gradle.properties") ? RemoteStatus::permission_denied : RemoteStatus::ok;
  };
  remote = scan(o, fs, kHost);
  REQUIRE(remote.findings.size() == 1);
  REQUIRE(remote.findings[0].store.has_value());
  CHECK_FALSE(remote.findings[0].store->opened);
  CHECK(remote.findings[0].store->password_exposed_in.empty());
}

TEST_CASE("a remote rescan with the scan cache settles unchanged files from their listing, not by reading them") {
  t::TempTree tree;
  tree.write("a/key.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("a/b/readme.txt", "nothing here\n");
  tree.write("c/notes.txt", "nor here\n");
  t::TempTree elsewhere;
  const std::string cache_file = elsewhere.path("cache");
  // Older than the cache's racy window, with whole-second mtimes.
  std::this_thread::sleep_for(std::chrono::nanoseconds(ScanCache::kRacyNs) + std::chrono::milliseconds(1100));
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 2;
  const std::string fp = ScanCache::fingerprint(o);
  std::string first_id;
  {
    LocalDirFs fs;
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    const auto r = scan(o, fs, kHost);
    REQUIRE(r.findings.size() == 1);
    first_id = r.findings[0].id;
    CHECK(fs.reads().size() == 3);
    cache.save(cache_file);
  }
  LocalDirFs fs;
  auto cache = ScanCache::load(cache_file, fp);
  o.cache = &cache;
  const auto r = scan(o, fs, kHost);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].id == first_id);
  CHECK(r.findings[0].location.host == kHost);
  CHECK(r.stats.files_cached == 3);
  CHECK(fs.reads().empty());
}

TEST_CASE("a large remote text file is read window by window, one read each, with the local scan's findings") {
  t::TempTree tree;
  std::string big(9u << 20, 'x');
  for (std::size_t i = 4096; i < big.size(); i += 4096) big[i] = '\n';
  big += "\n" + t::pkcs8_pem(t::ec_p256());
  tree.write("big.log", big);
  ScanOptions o;
  o.roots = {tree.path()};
  const auto local = scan(o);
  LocalDirFs fs;
  const auto remote = scan(o, fs, kHost);
  REQUIRE(local.findings.size() == 1);
  REQUIRE(remote.findings.size() == 1);
  CHECK(remote.findings[0].id == local.findings[0].id);
  CHECK(remote.findings[0].location.line == local.findings[0].location.line);
  CHECK(remote.findings[0].location.offset == local.findings[0].location.offset);
  CHECK(remote.stats.bytes_scanned == local.stats.bytes_scanned);
  const auto reads = fs.reads().at(tree.path("big.log"));
  // The head, each window, and the 1 MiB chunks of a line count: a read each, never one per small
  // chunk (a 32 KiB SFTP packet at a time would be ~300 reads).
  CHECK(reads.size() >= 3);
  CHECK(reads.size() < 16);
  for (const auto& [offset, n] : reads) CHECK(n <= (std::size_t{8} << 20) + 1);
}
