// SPDX-License-Identifier: Apache-2.0
// Atomic and exclusive file writes with POSIX calls (open, fchmod, write, fsync, rename).
#include <keyward/common/atomic_file.hpp>

#include <keyward/common/random.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace keyward::common {
namespace {

constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(err));
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Writes all of data to fd; returns 0 or the errno of the failed write.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Creates path (never through a symlink, never over a file) with exactly `mode`; returns its fd.
int create(const std::string& path, unsigned mode) {
  const int fd = ::open(path.c_str(), kCreateFlags, static_cast<mode_t>(mode));
  if (fd < 0) fail("cannot create", path, errno);
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {  // umask must not widen or narrow the mode
    const int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    fail("cannot set the mode of", path, e);
  }
  return fd;
}

// fsyncs and closes fd (closed either way); returns 0 or the errno: a full disk may only show here.
int sync_close(int fd) {
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    return e;
  }
  return ::close(fd) != 0 ? errno : 0;
}

}  // namespace

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory", dir, errno);
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    fail("cannot fsync directory", dir, e);
  }
  ::close(fd);
}

void write_file_exclusive(const std::string& path, std::string_view data, unsigned mode) {
  const int fd = create(path, mode);
  int e = write_all(fd, data);
  if (e != 0) ::close(fd);
  else e = sync_close(fd);
  if (e != 0) {
    ::unlink(path.c_str());  // O_EXCL: it was nobody else's
    fail("cannot write", path, e);
  }
  fsync_dir(dir_of(path));
}

AtomicFile::AtomicFile(std::string path, unsigned mode) : path_(std::move(path)) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw std::runtime_error("cannot write " + path_ + ": it is a symbolic link; refusing to replace it");
  // Same directory as the target (rename(2) does not cross file systems); a unique name, so two
  // writers never share one; ends in ".tmp" so a reader of the directory can skip leftovers.
  tmp_ = path_ + "." + random_hex(6) + ".tmp";
  fd_ = create(tmp_, mode);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& what, const std::string& name, int err) {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  ::unlink(tmp_.c_str());
  tmp_.clear();
  throw std::runtime_error(what + " " + name + ": " + std::strerror(err));
}

void AtomicFile::write(std::string_view data) {
  if (fd_ < 0) throw std::logic_error("AtomicFile::write after commit or failure");
  if (const int e = write_all(fd_, data); e != 0) fail("cannot write", tmp_, e);
}

void AtomicFile::sync() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::sync after commit or failure");
  if (::fsync(fd_) != 0) fail("cannot write", tmp_, errno);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::commit twice or after a failure");
  if (const int e = sync_close(std::exchange(fd_, -1)); e != 0) fail("cannot write", tmp_, e);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename into", path_, errno);
  tmp_.clear();
  fsync_dir(dir_of(path_));
}

void AtomicFile::commit_new() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::commit_new twice or after a failure");
  if (const int e = sync_close(std::exchange(fd_, -1)); e != 0) fail("cannot write", tmp_, e);
  if (::link(tmp_.c_str(), path_.c_str()) != 0) fail("cannot create", path_, errno);  // EEXIST: "File exists"
  ::unlink(tmp_.c_str());
  tmp_.clear();
  fsync_dir(dir_of(path_));
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  AtomicFile file(path, mode);
  file.write(data);
  file.commit();
}

}  // namespace keyward::common
