// SPDX-License-Identifier: Apache-2.0
#include "file_source.hpp"

#include <openssl/crypto.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace keyward::scanner::detail {

SkipReason skip_reason(ReadStatus s) noexcept {
  switch (s) {
    case ReadStatus::vanished:
      return SkipReason::vanished;
    case ReadStatus::permission_denied:
      return SkipReason::permission_denied;
    case ReadStatus::not_regular:
      return SkipReason::changed_type;
    case ReadStatus::too_large:
      return SkipReason::too_large;
    case ReadStatus::changed:
      return SkipReason::changed_during_scan;
    case ReadStatus::ok:
    case ReadStatus::io_error:
      break;
  }
  return SkipReason::io_error;
}

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void fill_facts(const struct stat& st, FileFacts& facts) {
  facts.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  facts.uid = st.st_uid;
  facts.gid = st.st_gid;
  facts.size = static_cast<std::uint64_t>(st.st_size);
  facts.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

}  // namespace

SourceFile::~SourceFile() {
  if (fd_ >= 0) ::close(fd_);
}

ReadStatus SourceFile::open(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err) {
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
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    err = errno;
    return ReadStatus::io_error;
  }
  if (!S_ISREG(st.st_mode)) return ReadStatus::not_regular;
  fill_facts(st, facts);
  if (static_cast<std::uint64_t>(st.st_size) > max_size) return ReadStatus::too_large;
  if (st.st_size > (1 << 20)) ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (fd_ >= 0) ::close(fd_);
  fd_ = std::exchange(f.fd, -1);
  size_ = static_cast<std::uint64_t>(st.st_size);
  mtime_sec_ = static_cast<std::int64_t>(st.st_mtim.tv_sec);
  mtime_nsec_ = static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  return ReadStatus::ok;
}

ReadStatus SourceFile::read_at(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) {
  got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, dst + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      err = errno;
      return ReadStatus::io_error;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return ReadStatus::ok;
}

void ReadBuffer::wipe() noexcept {
  if (data_) OPENSSL_cleanse(data_.get(), filled_);
}

ReadStatus SourceFile::read_all(ReadBuffer& buffer, bool& changed, int& err,
                                const std::function<void(std::uint64_t)>& reserve) {
  changed = false;
  err = 0;
  // Read exactly the size fstat gave, plus one byte to notice growth: a file that grows while
  // it is read is scanned as it was and counted as changed; the buffer never doubles.
  const std::size_t expected = static_cast<std::size_t>(size_);
  if (reserve) reserve(expected);
  buffer.reset(expected + 1);
  std::size_t got = 0;
  int reads = 0;
  while (got < buffer.size()) {
    ++reads;
    const ssize_t n = ::read(fd_, buffer.data() + got, buffer.size() - got);
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
  if (reads > 2 && changed_since_open()) changed = true;
  return ReadStatus::ok;
}

bool SourceFile::changed_since_open() const {
  struct stat now {};
  if (::fstat(fd_, &now) != 0) return false;
  return static_cast<std::uint64_t>(now.st_size) != size_ || now.st_mtim.tv_sec != mtime_sec_ ||
         now.st_mtim.tv_nsec != mtime_nsec_;
}

ReadStatus read_windows(OpenFile& file, const WindowLayout& layout, ReadBuffer& buffer, bool& changed, int& err,
                        const std::function<bool(const Window&)>& on_window) {
  changed = false;
  err = 0;
  const std::uint64_t size = file.size();
  buffer.reset(layout.size + 1);
  char* const buf = buffer.data();
  std::uint64_t base = 0;       // file offset of buf[0]
  std::size_t held = 0;         // bytes in buf (the tail kept from the window before, then new ones)
  std::uint64_t own_begin = 0;  // file offset where this window's own part starts
  for (;;) {
    const std::uint64_t rest = size - base;
    bool last = rest <= layout.size;
    // The last window asks for one byte past the size fstat gave, to notice growth.
    const std::size_t want = last ? static_cast<std::size_t>(rest) + 1 : layout.size;
    std::size_t got = 0;
    if (const auto st = file.read_at(base + held, buf + held, want - held, got, err); st != ReadStatus::ok) {
      buffer.shrink(0);
      return st;
    }
    held += got;
    if (last) {
      if (held != rest) changed = true;  // grew or shrank
      held = std::min<std::size_t>(held, static_cast<std::size_t>(rest));
    } else if (held < want) {
      changed = true;  // shrank: what is there is the last window
      last = true;
    }
    const std::uint64_t own_end = last ? base + held : base + held - layout.lookahead;
    if (!on_window(
            {{buf, held}, base, static_cast<std::size_t>(own_begin - base), static_cast<std::size_t>(own_end - base)}))
      return ReadStatus::ok;
    if (last) break;
    // The next window starts lookbehind bytes before the part it owns; what this one read from
    // there on is kept, so each byte is read from the file once.
    const std::uint64_t next = own_end - layout.lookbehind;
    const std::size_t keep = static_cast<std::size_t>(base + held - next);
    std::memmove(buf, buf + (next - base), keep);
    base = next;
    held = keep;
    own_begin = own_end;
  }
  if (file.changed_since_open()) changed = true;
  return ReadStatus::ok;
}

ReadStatus read_file(const std::string& path, std::uint64_t max_size, ReadBuffer& buffer, FileFacts& facts,
                     bool& changed, int& err, const std::function<void(std::uint64_t)>& reserve) {
  changed = false;
  SourceFile file;
  if (const auto st = file.open(path, max_size, facts, err); st != ReadStatus::ok) return st;
  return file.read_all(buffer, changed, err, reserve);
}

std::string owner_name(std::uint32_t uid) {
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[4096];
  std::string name;
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != nullptr) name = res->pw_name;
  return name;
}

}  // namespace keyward::scanner::detail
