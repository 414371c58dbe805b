// SPDX-License-Identifier: Apache-2.0
// The scanner's RemoteFileSystem over SFTP (docs/remote.md, "Modes"): a small pool of SSH
// sessions, one per scan worker at a time, each with its SFTP channel; listings come with every
// entry's attributes (no stat per file); a file's read keeps up to 16 requests of 64 KiB in
// flight, so a small file costs open, one read and close. Contents go into the scanner's buffers
// only: nothing is written to local disk. Used by: remote_scan.cpp.
#pragma once

#include "session.hpp"

#include <keyward/scanner/remote_fs.hpp>

#include <libssh/sftp.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace keyward::ssh::detail {

// One logged-in session with its SFTP channel.
struct SftpConnection {
  SessionPtr session;
  sftp_session sftp = nullptr;
  bool dead = false;  // the session broke or an operation timed out: never used again
  // Who holds it: a worker that holds an open file may stat or list a neighbour (a store's
  // password files) through the same session; a second session would deadlock the pool.
  std::thread::id holder;
  unsigned holds = 0;
  ~SftpConnection();
};

class SftpFileSystem final : public scanner::RemoteFileSystem {
 public:
  // Connects the first session now (its failure is the host's status); up to `connections`
  // more are opened when the scan's workers need them.
  static std::unique_ptr<SftpFileSystem> open(const Target& target, const ConnectOptions& options, unsigned connections,
                                              ConnectFailure& failure);

  scanner::RemoteStatus stat(const std::string& path, bool follow, scanner::RemoteEntry& out, int& err) override;
  scanner::RemoteStatus list(const std::string& path, std::vector<scanner::RemoteEntry>& out, int& err) override;
  scanner::RemoteStatus open(const std::string& path, std::unique_ptr<scanner::RemoteFile>& out, int& err) override;
  std::string mountinfo() override;
  bool lost() const override { return lost_.load(); }

  // A connection taken from the pool for one operation (or one open file), given back after;
  // taken again by the thread that holds it, it is the same one (held once more).
  class Lease {
   public:
    Lease(SftpFileSystem& fs, SftpConnection* c) : fs_(&fs), c_(c) {}
    Lease(Lease&& o) noexcept : fs_(o.fs_), c_(std::exchange(o.c_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    SftpConnection* operator->() const noexcept { return c_; }
    explicit operator bool() const noexcept { return c_ != nullptr; }

   private:
    SftpFileSystem* fs_;
    SftpConnection* c_;
  };
  // The status and errno of the last failed operation on `c` (marks it dead when the session broke).
  scanner::RemoteStatus failure_of(SftpConnection& c, int& err);

 private:
  SftpFileSystem(Target target, const ConnectOptions& options, unsigned connections);
  Lease take();
  void give_back(SftpConnection* c);
  std::unique_ptr<SftpConnection> connect_one(ConnectFailure& failure);

  Target target_;
  const ConnectOptions& options_;
  unsigned max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SftpConnection>> all_;
  std::vector<SftpConnection*> free_;
  unsigned opening_ = 0;        // connections being opened outside the lock
  bool growth_failed_ = false;  // a later connection failed: make do with those open
  std::atomic<bool> lost_{false};
};

}  // namespace keyward::ssh::detail
