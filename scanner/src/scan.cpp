#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_memo.hpp>

#include "file_scan.hpp"
#include "file_source.hpp"
#include "mounts.hpp"
#include "openssl/handles.hpp"
#include "item_scan.hpp"
#include "memory_budget.hpp"

#include <keyward/common/random.hpp>
#include <keyward/scanner/scan_cache.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace keyward::scanner {

std::vector<std::string> ScanOptions::default_trust_store_globs() {
  return {"/etc/ssl/certs/*",
          "/usr/share/ca-certificates/*",
          "/usr/local/share/ca-certificates/*",
          "/etc/ca-certificates/*",
          "/etc/pki/ca-trust/*",
          "/etc/pki/tls/certs/*",
          "/usr/share/pki/*",
          "*/lib/security/cacerts",
          "/etc/ssl/certs/java/cacerts",
          "*/certifi/cacert.pem",
          "*/pip/_vendor/certifi/cacert.pem",
          "/usr/lib/ssl/cert.pem",
          "/etc/ssl/cert.pem"};
}

std::vector<std::string> ScanOptions::default_exclude_globs() {
  return {"*/.git/objects", "__pycache__",       "*/.ccache",          "*/.npm/_cacache",
          "*/.cache/pip",   "*/.cache/mozilla",  "*/.cache/chromium", "*/.cache/google-chrome",
          "*/.cargo/registry/cache"};
}

std::string finding_id(std::string_view relative_path, std::string_view member, std::string_view identity,
                       std::uint64_t ordinal) {
  std::string material;
  material.reserve(relative_path.size() + member.size() + identity.size() + 24);
  material.append(relative_path).push_back('\0');
  material.append(member).push_back('\0');
  material.append(identity).push_back('\0');
  material.append(std::to_string(ordinal));
  return detail::sha256_hex(material).substr(0, 32);
}

namespace {

struct Glob {
  std::string pattern;
  bool on_name = false;  // no '/': match the file or directory name
  bool literal = false;  // no wildcard: a plain comparison
  bool suffix = false;   // "*/rest" with no other wildcard: the path ends with "/rest"
};

std::vector<Glob> compile_globs(const std::vector<std::string>& patterns) {
  std::vector<Glob> out;
  for (const auto& p : patterns) {
    if (p.empty()) continue;
    Glob g;
    g.on_name = p.find('/') == std::string::npos;
    g.pattern = p;
    // "dir/sub" means anywhere in the tree, as .gitignore users expect; "/abs" is anchored.
    if (!g.on_name && p[0] != '/' && p[0] != '*') g.pattern = "*/" + p;
    while (g.pattern.size() > 1 && g.pattern.back() == '/') g.pattern.pop_back();
    g.literal = g.pattern.find_first_of("*?[\\") == std::string::npos;
    g.suffix = !g.on_name && g.pattern.size() > 2 && g.pattern.compare(0, 2, "*/") == 0 &&
               g.pattern.find_first_of("*?[\\", 2) == std::string::npos;
    if (g.suffix) g.pattern.erase(0, 1);  // keep "/rest"
    out.push_back(std::move(g));
  }
  return out;
}

// Whether base + name ends with suffix, without joining them.
bool joined_ends_with(std::string_view base, std::string_view name, std::string_view suffix) {
  if (suffix.size() <= name.size()) return name.substr(name.size() - suffix.size()) == suffix;
  const std::size_t from_base = suffix.size() - name.size();
  return base.size() >= from_base && suffix.substr(from_base) == name &&
         base.substr(base.size() - from_base) == suffix.substr(0, from_base);
}

// Whether an entry base + name matches a glob, building the joined path only for globs that need
// it (a rescan settles most files without ever making their path).
bool matches(const std::vector<Glob>& globs, std::string_view base, std::string_view name) {
  for (const auto& g : globs) {
    if (g.on_name) {
      if (g.literal ? name == g.pattern : ::fnmatch(g.pattern.c_str(), std::string(name).c_str(), 0) == 0) return true;
    } else if (g.suffix) {
      if (joined_ends_with(base, name, g.pattern)) return true;
    } else {
      std::string path(base);
      path += name;
      if (g.literal ? path == g.pattern : ::fnmatch(g.pattern.c_str(), path.c_str(), 0) == 0) return true;
    }
  }
  return false;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id() { return common::random_hex(16); }

HostInfo host_info() {
  HostInfo h;
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  struct utsname u {};
  if (::uname(&u) == 0) h.os = std::string(u.sysname) + " " + u.release;
  std::ifstream os_release("/etc/os-release");
  std::string line;
  while (std::getline(os_release, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      h.os = v + " (" + h.os + ")";
    }
  }
  return h;
}

FileKey file_key(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

// A directory on the path from a root, for loop detection without following symlinks
// (bind mounts can still make a directory its own ancestor).
struct DirNode {
  dev_t dev;
  ino_t ino;
  std::shared_ptr<const DirNode> parent;
};

struct Item {
  std::string path;
  std::string rel;
  bool is_dir = false;
  dev_t root_dev = 0;
  std::shared_ptr<const DirNode> parent;
  unsigned depth = 0;
  bool is_root = false;
  FileKey key;  // a file's stat when its lister took one for the cache (ino 0: none)
};

void merge(ScanStats& into, const ScanStats& from) {
  into.files_seen += from.files_seen;
  into.files_scanned += from.files_scanned;
  into.files_cached += from.files_cached;
  into.bytes_scanned += from.bytes_scanned;
  into.dirs_seen += from.dirs_seen;
  into.dirs_cached += from.dirs_cached;
  into.errors += from.errors;
  into.trust_store_certificates += from.trust_store_certificates;
  into.archives += from.archives;
  into.archive_members += from.archive_members;
  for (const auto& [k, v] : from.skipped) into.skipped[k] += v;
  for (const auto& [k, v] : from.rejected) into.rejected[k] += v;
}

struct Worker {
  ScanStats stats;
  std::vector<Finding> findings;
  std::vector<ScanError> errors;
  detail::ReadBuffer buffer;
  // One directory at a time: its entries (names followed by a NUL, from `names` or the cache),
  // the getdents buffer, and a path buffer for stats by path.
  std::vector<CachedEntry> entries;
  std::string names;
  std::vector<char> dirents = std::vector<char>(32 * 1024);
  std::string path;
};

struct LinuxDirent64 {  // what getdents64 fills (linux/dirent.h; glibc does not declare it)
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

class Run {
 public:
  explicit Run(const ScanOptions& o)
      : opts_(o),
        mounts_(detail::MountTable::load(o.skip_pseudo_fs, o.skip_network_fs)),
        excludes_(compile_globs(o.excludes)),
        budget_(kBufferBudget) {
    if (o.default_excludes) {
      auto d = compile_globs(ScanOptions::default_exclude_globs());
      excludes_.insert(excludes_.end(), d.begin(), d.end());
    }
  }

  void add_root(Item item) { queue_.push_back(std::move(item)); }

  void run(std::vector<Worker>& workers) {
    pending_ = queue_.size();
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    for (auto& w : workers) threads.emplace_back([this, &w] { loop(w); });
    for (auto& t : threads) t.join();
  }

  bool cancelled() const { return opts_.cancel != nullptr && opts_.cancel->load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kMaxQueuedFiles = 4096;
  static constexpr unsigned kMaxDepth = 512;
  // A worker keeps a buffer that holds a window (file_scan.hpp), or a whole file below the
  // window threshold, plus the byte that notices growth: large text files cost no allocation.
  static constexpr std::size_t kKeepBuffer = detail::kWindowLayout.size + 1;
  static_assert(detail::kWindowThreshold + 1 <= kKeepBuffer);
  // Whole reads (files up to the window threshold, large archives and stores) and windows share
  // this: four windows, or a few files, at once. A file larger than it is read alone.
  static constexpr std::uint64_t kBufferBudget = 32ull << 20;

  void loop(Worker& w) {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty() || pending_ == 0; });
        if (queue_.empty()) return;
        item = std::move(queue_.back());
        queue_.pop_back();
      }
      if (opts_.pace && !cancelled()) opts_.pace();
      if (!cancelled()) {
        if (item.is_dir) process_dir(item, w);
        else process_file(item.path, item.rel, w, item.key);
      }
      std::lock_guard lock(mu_);
      if (--pending_ == 0) cv_.notify_all();
    }
  }

  void error(Worker& w, const std::string& path, std::string what) {
    ++w.stats.errors;
    if (w.errors.size() < opts_.max_errors_listed) w.errors.push_back({path, std::move(what)});
  }

  void process_dir(const Item& dir, Worker& w) {
    std::string base = dir.path;
    if (base.empty() || base.back() != '/') base += '/';
    const std::uint64_t base_hash = opts_.cache != nullptr ? ScanCache::path_hash(base) : 0;
    struct stat st {};
    int fd = -1;
    // A rescan: a directory whose stat matches the one remembered is listed from the cache, and
    // neither opened nor read. Adding, removing or renaming an entry changes its mtime and ctime.
    bool from_cache = false;
    if (opts_.cache != nullptr && opts_.cache->has_listing(base_hash)) {
      const int rc = dir.is_root ? ::stat(dir.path.c_str(), &st) : ::lstat(dir.path.c_str(), &st);
      from_cache = rc == 0 && S_ISDIR(st.st_mode) && opts_.cache->listing(base_hash, file_key(st), w.entries);
    }
    int open_errno = 0;
    if (!from_cache) {
      // One path walk per directory: open it, fstat the descriptor, list it (stat + opendir by
      // path walked it twice, 12k times on the bench tree). A subdirectory swapped for a
      // symlink since it was listed is not followed (O_NOFOLLOW); a root may be a symlink.
      const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (dir.is_root ? 0 : O_NOFOLLOW);
      fd = ::open(dir.path.c_str(), flags);
      open_errno = fd < 0 ? errno : 0;
      if (fd < 0 && (open_errno == ENOTDIR || open_errno == ELOOP)) {
        ++w.stats.skipped["changed_type"];
        return;
      }
      if (fd < 0 && open_errno == ENOENT) {
        ++w.stats.skipped["vanished"];
        return;
      }
      // An unreadable directory can still be stat-ed: it is seen, then counted as unreadable.
      if ((fd >= 0 ? ::fstat(fd, &st) : ::stat(dir.path.c_str(), &st)) != 0) {
        const int e = errno;
        if (fd >= 0) ::close(fd);
        if (e == ENOENT) ++w.stats.skipped["vanished"];
        else error(w, dir.path, std::strerror(e));
        return;
      }
    }
    struct Closer {
      int fd;
      ~Closer() {
        if (fd >= 0) ::close(fd);
      }
    } closer{fd};
    if (!S_ISDIR(st.st_mode)) {
      ++w.stats.skipped["changed_type"];
      return;
    }
    for (auto p = dir.parent; p; p = p->parent) {
      if (p->dev == st.st_dev && p->ino == st.st_ino) {
        ++w.stats.skipped["directory_loop"];
        return;
      }
    }
    if (!dir.is_root && opts_.one_file_system && st.st_dev != dir.root_dev) {
      ++w.stats.skipped["other_file_system"];
      return;
    }
    ++w.stats.dirs_seen;
    if (from_cache) ++w.stats.dirs_cached;
    auto node = std::make_shared<const DirNode>(DirNode{st.st_dev, st.st_ino, dir.parent});
    if (!from_cache) {
      if (fd < 0) {
        if (open_errno == EACCES || open_errno == EPERM) ++w.stats.skipped["permission_denied"];
        error(w, dir.path, std::strerror(open_errno));
        return;
      }
      // What was listed is scanned even when the listing broke off; only a whole one is remembered.
      if (list_dir(dir, fd, w) && opts_.cache != nullptr && !cancelled())
        opts_.cache->store_listing(base_hash, file_key(st), w.entries);
    }

    std::vector<Item> subdirs;
    for (const CachedEntry& ent : w.entries) {
      const std::string_view name = ent.name;  // followed by a NUL: name.data() is a C string
      if (cancelled()) break;
      if (ent.type == DT_DIR) {
        std::string path = base;
        path += name;
        std::string rel = dir.rel.empty() ? std::string(name) : dir.rel + "/" + std::string(name);
        if (matches(excludes_, base, name)) {
          ++w.stats.skipped["excluded"];
          continue;
        }
        if (auto m = mounts_.skip.find(path); m != mounts_.skip.end()) {
          ++w.stats.skipped[m->second];
          continue;
        }
        if (dir.depth + 1 > kMaxDepth) {
          ++w.stats.skipped["too_deep"];
          continue;
        }
        subdirs.push_back({std::move(path), std::move(rel), true, dir.root_dev, node, dir.depth + 1, false, {}});
        continue;
      }
      ++w.stats.files_seen;
      switch (ent.type) {
        case DT_REG:
          break;
        case DT_LNK:
          ++w.stats.skipped["symlink"];
          continue;
        case DT_FIFO:
        case DT_SOCK:
        case DT_BLK:
        case DT_CHR:
          ++w.stats.skipped["special_file"];
          continue;
        default:
          ++w.stats.skipped["unknown_type"];
          continue;
      }
      if (matches(excludes_, base, name)) {
        ++w.stats.skipped["excluded"];
        continue;
      }
      // A rescan: an unchanged file is settled here, with one stat (relative to the open
      // directory, or by path when the listing came from the cache), and its path hashed on
      // from the directory's (no string made, no queueing).
      FileKey key;
      if (opts_.cache != nullptr) {
        struct stat fst {};
        int rc;
        if (fd >= 0) {
          rc = ::fstatat(fd, name.data(), &fst, AT_SYMLINK_NOFOLLOW);
        } else {
          w.path.assign(base).append(name);
          rc = ::lstat(w.path.c_str(), &fst);
        }
        if (rc == 0 && S_ISREG(fst.st_mode)) {
          key = file_key(fst);
          if (opts_.cache->reuse(ScanCache::path_hash(name, base_hash), key, w.findings, w.stats, ent.file)) {
            ++w.stats.files_cached;
            if (opts_.progress != nullptr) opts_.progress->files.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
        }
      }
      std::string path = base;
      path += name;
      std::string rel = dir.rel.empty() ? std::string(name) : dir.rel + "/" + std::string(name);
      bool inline_file = false;
      {
        std::lock_guard lock(mu_);
        if (queue_.size() >= kMaxQueuedFiles) {
          inline_file = true;  // backpressure: the lister reads it itself
        } else {
          queue_.push_front(
              {std::move(path), std::move(rel), false, dir.root_dev, nullptr, dir.depth + 1, false, key});
          ++pending_;
        }
      }
      if (inline_file && opts_.pace) opts_.pace();
      if (inline_file) process_file(path, rel, w, key);
      else cv_.notify_one();
    }
    if (!subdirs.empty()) {
      std::lock_guard lock(mu_);
      for (auto& s : subdirs) queue_.push_back(std::move(s));
      pending_ += subdirs.size();
      cv_.notify_all();
    }
  }

  // Lists an open directory into w.entries with getdents64 (the entry's type comes from d_type,
  // so listing costs no stat per entry; fdopendir added two fcntl calls per directory). False
  // when the listing is not whole (a read error, counted, or an entry that vanished).
  bool list_dir(const Item& dir, int fd, Worker& w) {
    struct Raw {
      std::size_t at, size;
      unsigned char type;
    };
    std::vector<Raw> raw;
    w.names.clear();
    w.entries.clear();
    bool whole = true;
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, w.dirents.data(), w.dirents.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int e = errno;
        if (e == EACCES || e == EPERM) ++w.stats.skipped["permission_denied"];
        error(w, dir.path, std::strerror(e));
        whole = false;
        break;
      }
      if (n == 0) break;
      for (long at = 0; at < n;) {
        const auto* ent = reinterpret_cast<const LinuxDirent64*>(w.dirents.data() + at);
        at += ent->d_reclen;
        const std::string_view name(ent->d_name);
        if (name == "." || name == "..") continue;
        unsigned char type = ent->d_type;
        if (type == DT_UNKNOWN) {  // some file systems do not fill d_type
          struct stat est {};
          if (::fstatat(fd, ent->d_name, &est, AT_SYMLINK_NOFOLLOW) != 0) {
            ++w.stats.files_seen;
            ++w.stats.skipped["vanished"];
            whole = false;  // changing under us: not remembered
            continue;
          }
          type = S_ISDIR(est.st_mode) ? DT_DIR : S_ISREG(est.st_mode) ? DT_REG : S_ISLNK(est.st_mode) ? DT_LNK
               : S_ISFIFO(est.st_mode) ? DT_FIFO : S_ISSOCK(est.st_mode) ? DT_SOCK : S_ISBLK(est.st_mode) ? DT_BLK
               : S_ISCHR(est.st_mode) ? DT_CHR : DT_UNKNOWN;
        }
        raw.push_back({w.names.size(), name.size(), type});
        w.names.append(name);
        w.names.push_back('\0');
      }
    }
    w.entries.reserve(raw.size());
    for (const auto& r : raw) w.entries.push_back({std::string_view(w.names).substr(r.at, r.size), r.type});
    return whole;
  }

  // `listed`: the stat its lister took, when the cache did not know it (then it is not asked again).
  void process_file(const std::string& path, const std::string& rel, Worker& w, const FileKey& listed = {}) {
    FileKey key = listed;
    if (opts_.cache != nullptr && key.ino == 0) {
      // A rescan of an unchanged file only stats it.
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        key = file_key(st);
        if (opts_.cache->reuse(path, key, w.findings, w.stats)) {
          ++w.stats.files_cached;
          if (opts_.progress != nullptr) opts_.progress->files.fetch_add(1, std::memory_order_relaxed);
          return;
        }
      }
    }
    std::uint64_t held = 0;
    struct Release {  // on every way out: drop a large buffer, then give its bytes back
      detail::MemoryBudget& b;
      std::uint64_t& n;
      detail::ReadBuffer& buffer;
      ~Release() {
        buffer.trim(kKeepBuffer);
        b.release(n);
      }
    } release{budget_, held, w.buffer};
    const std::size_t before = w.findings.size();
    ScanStats file_stats;  // this file's counts: added to the worker's, and remembered with its findings
    const auto r = detail::scan_file(
        path, rel, opts_, w.buffer, w.findings, file_stats, [&](std::uint64_t size) { held = budget_.acquire(size); },
        [this] { return !cancelled(); });
    merge(w.stats, file_stats);
    if (r.status != detail::ReadStatus::ok) {
      if (r.status == detail::ReadStatus::permission_denied || r.status == detail::ReadStatus::io_error)
        error(w, path, std::strerror(r.err));
      return;
    }
    // A file that changed while read, or whose read was cut short, is not cached: the next scan
    // reads it again.
    if (opts_.cache != nullptr && key.ino != 0 && !r.changed && r.complete)
      opts_.cache->store(path, key, {w.findings.begin() + static_cast<std::ptrdiff_t>(before), w.findings.end()},
                         file_stats);
    if (opts_.progress != nullptr) {
      opts_.progress->files.fetch_add(1, std::memory_order_relaxed);
      opts_.progress->bytes.fetch_add(r.bytes, std::memory_order_relaxed);
      opts_.progress->findings.fetch_add(w.findings.size() - before, std::memory_order_relaxed);
    }
  }

  const ScanOptions& opts_;
  detail::MountTable mounts_;
  std::vector<Glob> excludes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // directories at the back (depth first), files at the front
  detail::MemoryBudget budget_;
  std::size_t pending_ = 0;
};


}  // namespace

void scan_buffer(std::string_view data, const std::string& path, const std::string& relative_path,
                 const FileFacts& facts, const ScanOptions& options, std::vector<Finding>& out, ScanStats& stats) {
  ++stats.files_scanned;
  stats.bytes_scanned += data.size();
  detail::ArchiveBudget budget;
  budget.compressed = data.size();
  detail::ItemContext ctx;
  ctx.options = &options;
  ctx.path = path;
  ctx.relative_path = relative_path;
  ctx.facts = facts;
  ctx.budget = &budget;
  detail::scan_item(data, ctx, out, stats);
}

void pair_findings(std::vector<Finding>& findings) {
  // SPKI -> findings holding that private key (a key file, or a store with that key entry) and
  // findings holding a certificate for it. A store's own key and certificate are paired inside
  // the store (StoreEntry carries both); across files they are linked here.
  std::unordered_map<std::string, std::vector<std::size_t>> keys, certs;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    if (f.kind == Kind::private_key) {
      if (const std::string spki = f.spki(); !spki.empty()) keys[spki].push_back(i);
    } else if (f.kind == Kind::certificate && !(f.certificate && f.certificate->trust_store)) {
      if (const std::string spki = f.spki(); !spki.empty()) certs[spki].push_back(i);
    } else if (f.kind == Kind::keystore && !(f.store && f.store->truststore)) {
      for (const auto& e : f.entries) {
        if (e.kind == Kind::private_key && e.key && !e.key->spki_sha256.empty()) keys[e.key->spki_sha256].push_back(i);
        else if (e.kind == Kind::certificate && e.certificate && !e.certificate->spki_sha256.empty())
          certs[e.certificate->spki_sha256].push_back(i);
      }
    }
  }
  for (const auto& [spki, key_idx] : keys) {
    auto it = certs.find(spki);
    if (it == certs.end()) continue;
    for (std::size_t k : key_idx) {
      for (std::size_t c : it->second) {
        if (k == c) continue;
        findings[k].paired_with.push_back(findings[c].id);
        findings[c].paired_with.push_back(findings[k].id);
      }
    }
  }
  for (auto& f : findings) {
    std::sort(f.paired_with.begin(), f.paired_with.end());
    f.paired_with.erase(std::unique(f.paired_with.begin(), f.paired_with.end()), f.paired_with.end());
  }
}

ScanResult scan(const ScanOptions& given) {
  // The caches of this scan (a store or certificate copied around is parsed once), unless the
  // caller keeps its own across scans.
  ScanMemo memo;
  ScanOptions options = given;
  if (options.memo == nullptr) options.memo = &memo;
  ScanResult result;
  result.tool_version = options.tool_version;
  result.host = host_info();
  result.scan_id = random_id();
  result.started_at = now_seconds();
  result.roots = options.roots;

  Run run(options);
  std::vector<Worker> workers(options.threads != 0 ? options.threads
                                                   : std::max(1u, std::thread::hardware_concurrency()));
  std::size_t usable = 0;
  if (!options.files.empty()) {
    // An explicit list (keyward ci): every file is its own item, named relative to base_dir.
    std::string base = options.base_dir.empty() ? std::string(".") : options.base_dir;
    if (base.back() != '/') base += '/';
    for (const auto& rel : options.files) {
      ++result.stats.files_seen;
      run.add_root({base + rel, rel, false, 0, nullptr, 0, true, {}});
    }
    usable = options.files.size();
  }
  for (const auto& root : options.roots) {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
      ++result.stats.errors;
      result.errors.push_back({root, std::string("cannot scan root: ") + std::strerror(errno)});
      continue;
    }
    ++usable;
    if (S_ISDIR(st.st_mode)) {
      run.add_root({root, "", true, st.st_dev, nullptr, 0, true, {}});
    } else if (S_ISREG(st.st_mode)) {
      ++result.stats.files_seen;
      const auto slash = root.find_last_of('/');
      run.add_root({root, slash == std::string::npos ? root : root.substr(slash + 1), false, st.st_dev, nullptr, 0,
                    true, {}});
    } else {
      ++result.stats.files_seen;
      ++result.stats.skipped["special_file"];
    }
  }
  if (usable == 0 && !options.roots.empty())
    throw std::runtime_error("no root could be scanned: " + result.errors.front().path + ": " +
                             result.errors.front().what);
  run.run(workers);

  for (auto& w : workers) {
    merge(result.stats, w.stats);
    for (auto& e : w.errors)
      if (result.errors.size() < options.max_errors_listed) result.errors.push_back(std::move(e));
    std::move(w.findings.begin(), w.findings.end(), std::back_inserter(result.findings));
  }
  std::sort(result.findings.begin(), result.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.location.path != b.location.path) return a.location.path < b.location.path;
    if (a.location.member != b.location.member) return a.location.member < b.location.member;
    if (a.location.offset != b.location.offset) return a.location.offset < b.location.offset;
    return a.id < b.id;
  });
  pair_findings(result.findings);
  result.complete = !run.cancelled();
  result.finished_at = now_seconds();
  return result;
}

}  // namespace keyward::scanner
