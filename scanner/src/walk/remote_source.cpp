// SPDX-License-Identifier: Apache-2.0
#include "walk/remote_source.hpp"

#include "walk/walker.hpp"

#include <keyward/scanner/scan_cache.hpp>

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace keyward::scanner::detail {
namespace {

// Attributes kept between a listing and the file's open: beyond this many (a huge directory, or
// files listed but never opened: excluded, or settled by the cache), open_file stats instead.
constexpr std::size_t kMaxListedAttributes = 1 << 16;

// The errno a remote status stands for, when the file system gave none.
int errno_of(RemoteStatus st, int err) noexcept {
  if (err != 0) return err;
  switch (st) {
    case RemoteStatus::not_found:
      return ENOENT;
    case RemoteStatus::permission_denied:
      return EACCES;
    case RemoteStatus::not_directory:
      return ENOTDIR;
    case RemoteStatus::ok:
    case RemoteStatus::failed:
      break;
  }
  return EIO;
}

ReadStatus read_status(RemoteStatus st) noexcept {
  switch (st) {
    case RemoteStatus::ok:
      return ReadStatus::ok;
    case RemoteStatus::not_found:
    case RemoteStatus::not_directory:
      return ReadStatus::vanished;
    case RemoteStatus::permission_denied:
      return ReadStatus::permission_denied;
    case RemoteStatus::failed:
      break;
  }
  return ReadStatus::io_error;
}

// An entry's d_type: from its type, or from its mode bits when the type is not one the walker
// descends into or reads.
unsigned char dirent_type(const RemoteEntry& e) noexcept {
  switch (e.type) {
    case RemoteType::regular:
      return DT_REG;
    case RemoteType::directory:
      return DT_DIR;
    case RemoteType::symlink:
      return DT_LNK;
    case RemoteType::other:
    case RemoteType::unknown:
      break;
  }
  switch (e.mode & S_IFMT) {
    case S_IFREG:
      return DT_REG;
    case S_IFDIR:
      return DT_DIR;
    case S_IFLNK:
      return DT_LNK;
    case S_IFIFO:
      return DT_FIFO;
    case S_IFSOCK:
      return DT_SOCK;
    case S_IFBLK:
      return DT_BLK;
    case S_IFCHR:
      return DT_CHR;
    default:
      break;
  }
  // "other" says it is neither a file, a directory nor a symlink: a special file all the same.
  return e.type == RemoteType::other ? DT_FIFO : DT_UNKNOWN;
}

void fill_facts(const RemoteEntry& e, FileFacts& facts) {
  facts.mode = e.mode & 07777;
  facts.uid = e.uid;
  facts.gid = e.gid;
  facts.owner = e.owner;
  facts.size = e.size;
  facts.mtime = e.mtime_ns / 1000000000;
}

}  // namespace

FileKey remote_file_key(const std::string& path, std::uint64_t dev, const RemoteEntry& e) {
  std::uint64_t ino = ScanCache::path_hash(path);
  if (ino == 0) ino = 1;  // 0 means "no stat taken" to the walker
  // SFTP gives no ctime: the mtime stands in for it.
  return {dev, ino, e.size, e.mtime_ns, e.mtime_ns};
}

RemoteSource::RemoteSource(RemoteFileSystem& fs)
    : fs_(fs), mountinfo_(fs.mountinfo()), devices_(MountTable::parse(mountinfo_, false, false)) {}

bool RemoteSource::stat_root(const std::string& path, RootType& type, std::uint64_t& dev, int& err) {
  RemoteEntry e;
  err = 0;
  const RemoteStatus st = fs_.stat(path, true, e, err);
  if (st != RemoteStatus::ok) {
    err = errno_of(st, err);
    return false;
  }
  const unsigned char t = dirent_type(e);
  type = t == DT_DIR ? RootType::directory : t == DT_REG ? RootType::regular : RootType::other;
  dev = devices_.device_of(path);
  return true;
}

MountTable RemoteSource::mount_table(bool pseudo, bool network) {
  return MountTable::parse(mountinfo_, pseudo, network);
}

bool RemoteSource::stopped() const noexcept {
  try {
    return fs_.lost();
  } catch (...) {
    return true;  // a file system that cannot even say is gone
  }
}

DirStatus RemoteSource::open_dir(OpenDir& dir, int& err) {
  dir.keys.clear();
  RemoteEntry e;
  err = 0;
  const RemoteStatus st = fs_.stat(dir.path, dir.is_root, e, err);
  if (st == RemoteStatus::not_found) return DirStatus::vanished;
  if (st == RemoteStatus::not_directory) return DirStatus::changed_type;
  if (st != RemoteStatus::ok) {
    err = errno_of(st, err);
    return DirStatus::failed;
  }
  if (dirent_type(e) != DT_DIR) return DirStatus::changed_type;
  dir.key = remote_file_key(dir.path, devices_.device_of(dir.path), e);
  return DirStatus::ok;
}

bool RemoteSource::stat_dir(OpenDir& dir) {
  RemoteEntry e;
  int err = 0;
  if (fs_.stat(dir.path, dir.is_root, e, err) != RemoteStatus::ok || dirent_type(e) != DT_DIR) return false;
  dir.key = remote_file_key(dir.path, devices_.device_of(dir.path), e);
  return true;
}

bool RemoteSource::list_dir(OpenDir& dir, ScanStats& stats, int& err) {
  std::vector<RemoteEntry> listing;
  dir.names.clear();
  dir.entries.clear();
  dir.keys.clear();
  err = 0;
  const RemoteStatus st = fs_.list(dir.path, listing, err);
  if (st != RemoteStatus::ok) {
    err = errno_of(st, err);
    return false;
  }
  bool whole = true;
  const std::uint64_t dev = devices_.device_of(dir.path);
  std::vector<std::size_t> at;
  at.reserve(listing.size());
  for (auto& e : listing) {
    if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos) continue;
    dir.scratch.assign(dir.base).append(e.name);
    unsigned char type = dirent_type(e);
    if (type == DT_UNKNOWN) {  // the listing did not say: one stat, as the local source does
      RemoteEntry full;
      int stat_err = 0;
      if (fs_.stat(dir.scratch, false, full, stat_err) != RemoteStatus::ok) {
        ++stats.files_seen;
        count_skip(stats, SkipReason::vanished);
        whole = false;  // changing under us: not remembered
        continue;
      }
      full.name = std::move(e.name);
      e = std::move(full);
      type = dirent_type(e);
    }
    at.push_back(dir.names.size());
    dir.names.append(e.name).push_back('\0');
    dir.entries.push_back({{}, type});
    dir.keys.push_back(remote_file_key(dir.scratch, dev, e));
    if (type == DT_REG) {
      std::lock_guard lock(mu_);
      if (listed_.size() < kMaxListedAttributes) listed_.insert_or_assign(dir.scratch, std::move(e));
    }
  }
  for (std::size_t i = 0; i < at.size(); ++i) {
    const std::size_t end = i + 1 < at.size() ? at[i + 1] - 1 : dir.names.size() - 1;
    dir.entries[i].name = std::string_view(dir.names).substr(at[i], end - at[i]);
  }
  return whole;
}

void RemoteSource::close_dir(OpenDir& dir) noexcept { dir.keys.clear(); }

bool RemoteSource::stat_entry(OpenDir& dir, std::string_view name, FileKey& key) {
  // `name` is one of dir.entries (their names lie in order in dir.names): found by its address.
  if (!dir.from_cache && dir.keys.size() == dir.entries.size()) {
    const auto it = std::lower_bound(dir.entries.begin(), dir.entries.end(), name.data(),
                                     [](const CachedEntry& e, const char* p) { return e.name.data() < p; });
    if (it != dir.entries.end() && it->name.data() == name.data()) {
      if (it->type != DT_REG) return false;
      key = dir.keys[static_cast<std::size_t>(it - dir.entries.begin())];
      return true;
    }
  }
  dir.scratch.assign(dir.base).append(name);
  return stat_file(dir.scratch, key);
}

bool RemoteSource::stat_file(const std::string& path, FileKey& key) {
  RemoteEntry e;
  int err = 0;
  if (fs_.stat(path, false, e, err) != RemoteStatus::ok || dirent_type(e) != DT_REG) return false;
  key = remote_file_key(path, devices_.device_of(path), e);
  return true;
}

RemoteStatus RemoteSource::attributes_of(const std::string& path, RemoteEntry& e, int& err) {
  {
    std::lock_guard lock(mu_);
    if (auto node = listed_.extract(path)) {
      e = std::move(node.mapped());
      return RemoteStatus::ok;
    }
  }
  return fs_.stat(path, false, e, err);
}

ReadStatus RemoteSource::open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                                   std::unique_ptr<OpenFile>& file) {
  err = 0;
  // Opened first, as the local source does: an unreadable file is permission_denied whatever
  // its size.
  std::unique_ptr<RemoteFile> remote;
  if (const RemoteStatus st = fs_.open(path, remote, err); st != RemoteStatus::ok || !remote) {
    err = errno_of(st, err);
    return st == RemoteStatus::ok ? ReadStatus::io_error : read_status(st);
  }
  RemoteEntry e;
  if (const RemoteStatus st = attributes_of(path, e, err); st != RemoteStatus::ok) {
    err = errno_of(st, err);
    return read_status(st);
  }
  if (dirent_type(e) != DT_REG) return ReadStatus::not_regular;
  fill_facts(e, facts);
  if (e.size > max_size) return ReadStatus::too_large;
  file = std::make_unique<RemoteOpenFile>(std::move(remote), e.size);
  return ReadStatus::ok;
}

ReadStatus RemoteOpenFile::read_at(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) {
  got = 0;
  const RemoteStatus st = file_->read(offset, dst, n, got, err);
  if (st == RemoteStatus::ok) return ReadStatus::ok;
  err = errno_of(st, err);
  return read_status(st);
}

ReadStatus RemoteOpenFile::read_all(ReadBuffer& buffer, bool& changed, int& err,
                                    const std::function<void(std::uint64_t)>& reserve) {
  changed = false;
  err = 0;
  // The size the listing gave plus one byte, in one read: the file system keeps the requests for
  // all of it in flight; a file that grew or shrank since it was listed is counted as changed.
  const std::size_t expected = static_cast<std::size_t>(size_);
  if (reserve) reserve(expected);
  buffer.reset(expected + 1);
  std::size_t got = 0;
  if (const ReadStatus st = read_at(0, buffer.data(), buffer.size(), got, err); st != ReadStatus::ok) {
    buffer.shrink(0);
    return st;
  }
  if (got != expected) changed = true;
  buffer.shrink(std::min(got, expected));
  return ReadStatus::ok;
}

}  // namespace keyward::scanner::detail

namespace keyward::scanner {

ScanResult scan(const ScanOptions& options, RemoteFileSystem& fs, const std::string& host) {
  detail::RemoteSource source(fs);
  ScanResult result = detail::scan_source(options, source);
  // The host is this scan's, not the machine running it; ids stay those of a local scan.
  result.host = HostInfo{host, ""};
  for (auto& f : result.findings) f.location.host = host;
  return result;
}

}  // namespace keyward::scanner
