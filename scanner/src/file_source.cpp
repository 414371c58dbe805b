#include "file_source.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

namespace keyward::scanner::detail {

std::string_view to_string(ReadStatus s) noexcept {
  switch (s) {
    case ReadStatus::ok: return "ok";
    case ReadStatus::vanished: return "vanished";
    case ReadStatus::permission_denied: return "permission_denied";
    case ReadStatus::not_regular: return "changed_type";
    case ReadStatus::too_large: return "too_large";
    case ReadStatus::io_error: return "io_error";
    case ReadStatus::changed: return "changed_during_scan";
  }
  return "unknown";
}

namespace {

struct Fd {
  int fd = -1;
  ~Fd() { if (fd >= 0) ::close(fd); }
};

void fill_facts(const struct stat& st, FileFacts& facts) {
  facts.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  facts.uid = st.st_uid;
  facts.gid = st.st_gid;
  facts.size = static_cast<std::uint64_t>(st.st_size);
  facts.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

}  // namespace

ReadStatus read_file(const std::string& path, std::uint64_t max_size, ReadBuffer& buffer, FileFacts& facts,
                     bool& changed, int& err, const std::function<void(std::uint64_t)>& reserve) {
  changed = false;
  err = 0;
  constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  Fd f;
  f.fd = ::open(path.c_str(), kFlags | O_NOATIME);
  if (f.fd < 0 && errno == EPERM) f.fd = ::open(path.c_str(), kFlags);  // O_NOATIME needs ownership
  if (f.fd < 0) {
    err = errno;
    if (err == ENOENT || err == ENOTDIR) return ReadStatus::vanished;
    if (err == EACCES || err == EPERM) return ReadStatus::permission_denied;
    if (err == ELOOP || err == ENXIO || err == EWOULDBLOCK) return ReadStatus::not_regular;
    return ReadStatus::io_error;
  }
  struct stat before {};
  if (::fstat(f.fd, &before) != 0) {
    err = errno;
    return ReadStatus::io_error;
  }
  if (!S_ISREG(before.st_mode)) return ReadStatus::not_regular;
  fill_facts(before, facts);
  if (static_cast<std::uint64_t>(before.st_size) > max_size) return ReadStatus::too_large;
  if (before.st_size > (1 << 20)) ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  // Read exactly the size fstat gave, plus one byte to notice growth: a file that grows while
  // it is read is scanned as it was and counted as changed; the buffer never doubles.
  const std::size_t expected = static_cast<std::size_t>(before.st_size);
  if (reserve) reserve(expected);
  buffer.reset(expected + 1);
  std::size_t got = 0;
  int reads = 0;
  while (got < buffer.size()) {
    ++reads;
    const ssize_t n = ::read(f.fd, buffer.data() + got, buffer.size() - got);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      err = errno;
      buffer.shrink(got);
      return ReadStatus::io_error;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != expected) changed = true;  // grew or shrank while read
  buffer.shrink(std::min(got, expected));
  // A file read by one read() call is one snapshot; only a longer read can see a change.
  struct stat after {};
  if (reads > 2 && ::fstat(f.fd, &after) == 0) {
    if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
        after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || got < expected)
      changed = true;
  }
  return ReadStatus::ok;
}

std::string owner_name(std::uint32_t uid) {
  static std::mutex mu;
  static std::map<std::uint32_t, std::string> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(uid);
  if (it != cache.end()) return it->second;
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[4096];
  std::string name;
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != nullptr) name = res->pw_name;
  cache.emplace(uid, name);
  return name;
}

}  // namespace keyward::scanner::detail
