// Atomic and exclusive file writes with POSIX calls (open, fchmod, write, fsync, rename).
#include <keyward/common/atomic_file.hpp>

#include <keyward/common/random.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

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

// Writes all of data to fd, fsyncs and closes it; on error closes it and throws.
void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      fail("cannot write", path, e);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    fail("cannot fsync", path, e);
  }
  if (::close(fd) != 0) fail("cannot close", path, errno);
}

// Creates path (never through a symlink, never over a file) with exactly `mode` and writes data.
// A file it created and could not finish is removed (O_EXCL: it was nobody else's).
void create_with(const std::string& path, std::string_view data, unsigned mode) {
  const int fd = ::open(path.c_str(), kCreateFlags, static_cast<mode_t>(mode));
  if (fd < 0) fail("cannot create", path, errno);
  try {
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {  // umask must not widen or narrow the mode
      const int e = errno;
      ::close(fd);
      fail("cannot set the mode of", path, e);
    }
    write_all(fd, data, path);
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
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
  create_with(path, data, mode);
  fsync_dir(dir_of(path));
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw std::runtime_error("cannot write " + path + ": it is a symbolic link; refusing to replace it");
  // Same directory as the target (rename(2) does not cross file systems); a unique name, so two
  // writers never share one; ends in ".tmp" so a reader of the directory can skip leftovers.
  const std::string tmp = path + "." + random_hex(6) + ".tmp";
  create_with(tmp, data, mode);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename into", path, e);
  }
  fsync_dir(dir_of(path));
}

}  // namespace keyward::common
