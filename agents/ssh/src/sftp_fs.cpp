// SPDX-License-Identifier: Apache-2.0
#include "sftp_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <deque>

namespace keyward::ssh::detail {
namespace {

using scanner::RemoteEntry;
using scanner::RemoteStatus;
using scanner::RemoteType;

constexpr std::uint32_t kChunk = 64 * 1024;  // per read request (OpenSSH serves up to 256 KiB)
constexpr std::size_t kInFlight = 16;        // read requests outstanding per file
constexpr std::size_t kMaxMountinfo = 4u << 20;

// The type from the permission bits when the server sent them (libssh's own type field is a
// guess under SFTP v3: it reported directories as regular files), else from that field.
RemoteType type_of(const sftp_attributes a) noexcept {
  if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) != 0 && (a->permissions & S_IFMT) != 0) {
    const mode_t m = a->permissions;
    return S_ISREG(m)   ? RemoteType::regular
           : S_ISDIR(m) ? RemoteType::directory
           : S_ISLNK(m) ? RemoteType::symlink
                        : RemoteType::other;
  }
  switch (a->type) {
    case SSH_FILEXFER_TYPE_REGULAR:
      return RemoteType::regular;
    case SSH_FILEXFER_TYPE_DIRECTORY:
      return RemoteType::directory;
    case SSH_FILEXFER_TYPE_SYMLINK:
      return RemoteType::symlink;
    case SSH_FILEXFER_TYPE_SPECIAL:
      return RemoteType::other;
    default:
      return RemoteType::unknown;
  }
}

RemoteEntry entry_of(const sftp_attributes a) {
  RemoteEntry e;
  if (a->name != nullptr) e.name = a->name;
  e.type = type_of(a);
  e.size = a->size;
  e.mtime_ns = static_cast<std::int64_t>(a->mtime64 != 0 ? a->mtime64 : a->mtime) * 1000000000 + a->mtime_nseconds;
  e.mode = a->permissions;
  e.uid = a->uid;
  e.gid = a->gid;
  if (a->owner != nullptr) e.owner = a->owner;
  return e;
}

struct AttrFree {
  void operator()(sftp_attributes a) const noexcept { sftp_attributes_free(a); }
};
using AttrPtr = std::unique_ptr<std::remove_pointer_t<sftp_attributes>, AttrFree>;

// An open remote file: its lease keeps the connection for this file until it is closed.
class SftpFile final : public scanner::RemoteFile {
 public:
  SftpFile(SftpFileSystem& fs, SftpFileSystem::Lease lease, sftp_file f) : fs_(fs), lease_(std::move(lease)), f_(f) {}
  ~SftpFile() override {
    if (f_ != nullptr) sftp_close(f_);
  }
  RemoteStatus read(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) override;

 private:
  RemoteStatus read_sequential(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err);
  SftpFileSystem& fs_;
  SftpFileSystem::Lease lease_;
  sftp_file f_;
};

// Pipelined: up to kInFlight chunk requests outstanding, answered in order. A short answer
// before the end of the file (a server may shorten any read) is finished sequentially.
RemoteStatus SftpFile::read(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) {
  got = 0;
  if (n == 0) return RemoteStatus::ok;
  if (sftp_seek64(f_, offset) != 0) return fs_.failure_of(*lease_.operator->(), err);
  struct Request {
    std::size_t at;
    std::uint32_t len;
    int id;
  };
  std::deque<Request> pending;
  std::size_t asked = 0;
  bool short_read = false, failed = false;
  while ((asked < n && !short_read && !failed) || !pending.empty()) {
    while (asked < n && !short_read && !failed && pending.size() < kInFlight) {
      const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(kChunk, n - asked));
      const int id = sftp_async_read_begin(f_, len);
      if (id < 0) {
        failed = true;
        break;
      }
      pending.push_back({asked, len, id});
      asked += len;
    }
    if (pending.empty()) break;
    const Request r = pending.front();
    pending.pop_front();
    const int rc = sftp_async_read(f_, dst + r.at, r.len, static_cast<std::uint32_t>(r.id));
    if (rc < 0) failed = true;  // keep collecting the answers already asked for
    else if (!short_read && !failed && r.at == got) {
      got += static_cast<std::size_t>(rc);
      if (static_cast<std::uint32_t>(rc) < r.len) short_read = true;
    }
  }
  if (failed) return fs_.failure_of(*lease_.operator->(), err);
  if (short_read && got < n) {
    // End of file, or a server that shortened one answer: one sequential read says which.
    std::size_t more = 0;
    const RemoteStatus st = read_sequential(offset + got, dst + got, n - got, more, err);
    got += more;
    return st;
  }
  return RemoteStatus::ok;
}

RemoteStatus SftpFile::read_sequential(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) {
  got = 0;
  if (sftp_seek64(f_, offset) != 0) return fs_.failure_of(*lease_.operator->(), err);
  while (got < n) {
    const ssize_t r = sftp_read(f_, dst + got, std::min<std::size_t>(kChunk, n - got));
    if (r < 0) return fs_.failure_of(*lease_.operator->(), err);
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return RemoteStatus::ok;
}

}  // namespace

SftpConnection::~SftpConnection() {
  if (sftp != nullptr) sftp_free(sftp);
}

SftpFileSystem::Lease::~Lease() {
  if (c_ != nullptr) fs_->give_back(c_);
}

SftpFileSystem::SftpFileSystem(Target target, const ConnectOptions& options, unsigned connections)
    : target_(std::move(target)), options_(options), max_(std::max(1u, connections)) {}

std::unique_ptr<SftpConnection> SftpFileSystem::connect_one(ConnectFailure& failure) {
  Connected c = connect(target_, options_);
  if (!c.session) {
    failure = std::move(c.failure);
    return nullptr;
  }
  auto conn = std::make_unique<SftpConnection>();
  conn->session = std::move(c.session);
  conn->sftp = sftp_new(conn->session.get());
  if (conn->sftp == nullptr || sftp_init(conn->sftp) != SSH_OK) {
    failure = {HostStatus::error,
               "the host offers no SFTP (enable the sftp subsystem in its sshd_config, or use "
               "--mode exec): " +
                   std::string(ssh_get_error(conn->session.get()))};
    return nullptr;
  }
  return conn;
}

std::unique_ptr<SftpFileSystem> SftpFileSystem::open(const Target& target, const ConnectOptions& options,
                                                     unsigned connections, ConnectFailure& failure) {
  std::unique_ptr<SftpFileSystem> fs(new SftpFileSystem(target, options, connections));
  auto first = fs->connect_one(failure);
  if (!first) return nullptr;
  fs->free_.push_back(first.get());
  fs->all_.push_back(std::move(first));
  return fs;
}

SftpFileSystem::Lease SftpFileSystem::take() {
  const auto me = std::this_thread::get_id();
  std::unique_lock lock(mu_);
  const auto hold = [&](SftpConnection* c) {
    c->holder = me;
    ++c->holds;
    c->sftp->errnum = SSH_FX_OK;  // failure_of() reads the status of this operation only
    return Lease(*this, c);
  };
  for (const auto& c : all_)
    if (c->holds != 0 && c->holder == me && !c->dead) return hold(c.get());
  for (;;) {
    if (lost_.load()) return Lease(*this, nullptr);
    if (!free_.empty()) {
      SftpConnection* c = free_.back();
      free_.pop_back();
      return hold(c);
    }
    if (!growth_failed_ && all_.size() + opening_ < max_) {
      ++opening_;
      lock.unlock();
      ConnectFailure f;
      auto c = connect_one(f);
      lock.lock();
      --opening_;
      if (c) {
        all_.push_back(std::move(c));
        return hold(all_.back().get());
      }
      growth_failed_ = true;  // e.g. the host's MaxStartups or MaxSessions: use those open
      continue;
    }
    cv_.wait(lock);
  }
}

void SftpFileSystem::give_back(SftpConnection* c) {
  {
    std::lock_guard lock(mu_);
    if (--c->holds != 0) return;
    if (!c->dead) {
      free_.push_back(c);
    } else {
      bool alive = false;
      for (const auto& a : all_) alive = alive || !a->dead;
      if (!alive && opening_ == 0) lost_.store(true);
    }
  }
  cv_.notify_all();
}

RemoteStatus SftpFileSystem::failure_of(SftpConnection& c, int& err) {
  // take() cleared the SFTP status, so none here means no answer came: the session broke or the
  // operation timed out, and an answer may still be on its way: never reuse the session.
  const int code = sftp_get_error(c.sftp);
  if (!ssh_is_connected(c.session.get()) || code == SSH_FX_OK || code == SSH_FX_CONNECTION_LOST ||
      code == SSH_FX_NO_CONNECTION || ssh_get_error_code(c.session.get()) == SSH_FATAL) {
    c.dead = true;
    err = ssh_is_connected(c.session.get()) ? ETIMEDOUT : ECONNRESET;
    return RemoteStatus::failed;
  }
  switch (code) {
    case SSH_FX_NO_SUCH_FILE:
    case SSH_FX_NO_SUCH_PATH:
      err = ENOENT;
      return RemoteStatus::not_found;
    case SSH_FX_PERMISSION_DENIED:
      err = EACCES;
      return RemoteStatus::permission_denied;
    default:
      err = EIO;
      return RemoteStatus::failed;
  }
}

RemoteStatus SftpFileSystem::stat(const std::string& path, bool follow, RemoteEntry& out, int& err) {
  Lease c = take();
  if (!c) return err = ECONNRESET, RemoteStatus::failed;
  AttrPtr a(follow ? sftp_stat(c->sftp, path.c_str()) : sftp_lstat(c->sftp, path.c_str()));
  if (!a) return failure_of(*c.operator->(), err);
  out = entry_of(a.get());
  out.name.clear();
  return RemoteStatus::ok;
}

RemoteStatus SftpFileSystem::list(const std::string& path, std::vector<RemoteEntry>& out, int& err) {
  out.clear();
  Lease c = take();
  if (!c) return err = ECONNRESET, RemoteStatus::failed;
  sftp_dir dir = sftp_opendir(c->sftp, path.c_str());
  if (dir == nullptr) return failure_of(*c.operator->(), err);
  RemoteStatus st = RemoteStatus::ok;
  for (;;) {
    AttrPtr a(sftp_readdir(c->sftp, dir));
    if (!a) {
      if (sftp_dir_eof(dir) == 0) st = failure_of(*c.operator->(), err);
      break;
    }
    if (a->name == nullptr || std::strcmp(a->name, ".") == 0 || std::strcmp(a->name, "..") == 0) continue;
    out.push_back(entry_of(a.get()));
  }
  sftp_closedir(dir);  // on a dead session the request fails at once; the handle is freed
  return st;
}

RemoteStatus SftpFileSystem::open(const std::string& path, std::unique_ptr<scanner::RemoteFile>& out, int& err) {
  Lease c = take();
  if (!c) return err = ECONNRESET, RemoteStatus::failed;
  sftp_file f = sftp_open(c->sftp, path.c_str(), O_RDONLY, 0);
  if (f == nullptr) return failure_of(*c.operator->(), err);
  out = std::make_unique<SftpFile>(*this, std::move(c), f);
  return RemoteStatus::ok;
}

std::string SftpFileSystem::mountinfo() {
  std::unique_ptr<scanner::RemoteFile> f;
  int err = 0;
  if (open("/proc/self/mountinfo", f, err) != RemoteStatus::ok) return {};
  std::string text(kMaxMountinfo, '\0');
  std::size_t got = 0;
  // /proc files report size 0: read what there is, up to the cap.
  if (f->read(0, text.data(), text.size(), got, err) != RemoteStatus::ok) return {};
  text.resize(got);
  return text;
}

}  // namespace keyward::ssh::detail
