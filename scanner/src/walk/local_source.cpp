// SPDX-License-Identifier: Apache-2.0
#include "walk/local_source.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace keyward::scanner::detail {
namespace {

struct LinuxDirent64 {  // what getdents64 fills (linux/dirent.h; glibc does not declare it)
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

constexpr std::size_t kDirentBuffer = 32 * 1024;

unsigned char type_of(mode_t mode) noexcept {
  return S_ISDIR(mode)    ? DT_DIR
         : S_ISREG(mode)  ? DT_REG
         : S_ISLNK(mode)  ? DT_LNK
         : S_ISFIFO(mode) ? DT_FIFO
         : S_ISSOCK(mode) ? DT_SOCK
         : S_ISBLK(mode)  ? DT_BLK
         : S_ISCHR(mode)  ? DT_CHR
                          : DT_UNKNOWN;
}

}  // namespace

FileKey file_key(const struct stat& st) noexcept {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

bool LocalSource::stat_root(const std::string& path, RootType& type, std::uint64_t& dev, int& err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    err = errno;
    return false;
  }
  type = S_ISDIR(st.st_mode) ? RootType::directory : S_ISREG(st.st_mode) ? RootType::regular : RootType::other;
  dev = static_cast<std::uint64_t>(st.st_dev);
  return true;
}

DirStatus LocalSource::open_dir(OpenDir& dir, int& err) {
  // One path walk per directory: open it, fstat the descriptor, list it (stat + opendir by
  // path walked it twice, 12k times on the bench tree). A subdirectory swapped for a symlink
  // since it was listed is not followed (O_NOFOLLOW); a root may be a symlink.
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (dir.is_root ? 0 : O_NOFOLLOW);
  dir.fd = ::open(dir.path.c_str(), flags);
  const int open_errno = dir.fd < 0 ? errno : 0;
  if (dir.fd < 0 && (open_errno == ENOTDIR || open_errno == ELOOP)) return DirStatus::changed_type;
  if (dir.fd < 0 && open_errno == ENOENT) return DirStatus::vanished;
  // An unreadable directory can still be stat-ed: it is seen, then counted as unreadable.
  struct stat st {};
  if ((dir.fd >= 0 ? ::fstat(dir.fd, &st) : ::stat(dir.path.c_str(), &st)) != 0) {
    err = errno;
    close_dir(dir);
    return err == ENOENT ? DirStatus::vanished : DirStatus::failed;
  }
  if (!S_ISDIR(st.st_mode)) {
    close_dir(dir);
    return DirStatus::changed_type;
  }
  dir.key = file_key(st);
  err = open_errno;
  return dir.fd >= 0 ? DirStatus::ok : DirStatus::unreadable;
}

bool LocalSource::stat_dir(OpenDir& dir) {
  struct stat st {};
  const int rc = dir.is_root ? ::stat(dir.path.c_str(), &st) : ::lstat(dir.path.c_str(), &st);
  if (rc != 0 || !S_ISDIR(st.st_mode)) return false;
  dir.key = file_key(st);
  return true;
}

// The entry's type comes from d_type, so listing costs no stat per entry (fdopendir added two
// fcntl calls per directory).
bool LocalSource::list_dir(OpenDir& dir, ScanStats& stats, int& err) {
  struct Raw {
    std::size_t at, size;
    unsigned char type;
  };
  std::vector<Raw> raw;
  dir.names.clear();
  dir.entries.clear();
  dir.buffer.resize(kDirentBuffer);
  bool whole = true;
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir.fd, dir.buffer.data(), dir.buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      whole = false;
      break;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      const auto* ent = reinterpret_cast<const LinuxDirent64*>(dir.buffer.data() + at);
      at += ent->d_reclen;
      const std::string_view name(ent->d_name);
      if (name == "." || name == "..") continue;
      unsigned char type = ent->d_type;
      if (type == DT_UNKNOWN) {  // some file systems do not fill d_type
        struct stat est {};
        if (::fstatat(dir.fd, ent->d_name, &est, AT_SYMLINK_NOFOLLOW) != 0) {
          ++stats.files_seen;
          count_skip(stats, SkipReason::vanished);
          whole = false;  // changing under us: not remembered
          continue;
        }
        type = type_of(est.st_mode);
      }
      raw.push_back({dir.names.size(), name.size(), type});
      dir.names.append(name);
      dir.names.push_back('\0');
    }
  }
  dir.entries.reserve(raw.size());
  for (const auto& r : raw) dir.entries.push_back({std::string_view(dir.names).substr(r.at, r.size), r.type});
  return whole;
}

void LocalSource::close_dir(OpenDir& dir) noexcept {
  if (dir.fd >= 0) ::close(dir.fd);
  dir.fd = -1;
}

bool LocalSource::stat_entry(OpenDir& dir, std::string_view name, FileKey& key) {
  struct stat st {};
  int rc;
  if (dir.fd >= 0) {
    rc = ::fstatat(dir.fd, name.data(), &st, AT_SYMLINK_NOFOLLOW);
  } else {
    dir.scratch.assign(dir.base).append(name);
    rc = ::lstat(dir.scratch.c_str(), &st);
  }
  if (rc != 0 || !S_ISREG(st.st_mode)) return false;
  key = file_key(st);
  return true;
}

bool LocalSource::stat_file(const std::string& path, FileKey& key) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  key = file_key(st);
  return true;
}

ReadStatus LocalSource::open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                                  std::unique_ptr<OpenFile>& file) {
  auto local = std::make_unique<SourceFile>();
  const ReadStatus st = local->open(path, max_size, facts, err);
  if (st == ReadStatus::ok) file = std::move(local);
  return st;
}

}  // namespace keyward::scanner::detail
