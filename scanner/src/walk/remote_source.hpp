// SPDX-License-Identifier: Apache-2.0
// A remote tree as a file source: a FileSource over a RemoteFileSystem (remote_fs.hpp; SFTP in
// agents/ssh), so that the walker, the cache layer and the detectors scan it as they scan a local
// tree (docs/architecture.md, "Where each kind of change goes"). Used by: scan(options, fs, host)
// and tests.
// - A listing carries every entry's attributes: its types become the entries' types, and its
//   attributes answer stat_entry and open_file without another round trip.
// - File keys: SFTP has neither device nor inode numbers. The device is the mount point that
//   holds the path (the remote mountinfo; one device when there is none) and the inode a hash of
//   the path: symlinks are never followed below a root, so only a bind mount can make a loop,
//   and max_depth bounds that.
// - Facts come from the entry, its owner's name as the server gives it: a remote uid is never
//   looked up among this machine's users, and the files beside a store are read through this
//   source, never from local disk (FileSource::local is false).
// - Once the file system is lost, the source is stopped(): the walk ends and is incomplete.
// Nothing read is written to local disk: file bytes go only into the scan's read buffers.
#pragma once

#include "walk/source.hpp"

#include <keyward/scanner/remote_fs.hpp>

#include <mutex>
#include <string>
#include <unordered_map>

namespace keyward::scanner::detail {

// The key of a remote entry at `path` on device `dev` (see the top of this file).
FileKey remote_file_key(const std::string& path, std::uint64_t dev, const RemoteEntry& e);

// A RemoteFileSystem walked as a FileSource. Thread-safe as the walker needs (one OpenDir per
// worker; the attributes kept between a listing and the file's open are behind a mutex).
class RemoteSource final : public FileSource {
 public:
  // Reads the remote mount table once (fs.mountinfo()).
  explicit RemoteSource(RemoteFileSystem& fs);

  // fs.stat, following a symlink.
  bool stat_root(const std::string& path, RootType& type, std::uint64_t& dev, int& err) override;
  // The remote mountinfo parsed; empty when the host gave none (then nothing is skipped by mount).
  MountTable mount_table(bool pseudo, bool network) override;
  // fs.lost().
  bool stopped() const noexcept override;
  // False: paths and uids are the remote host's.
  bool local() const noexcept override { return false; }

  // fs.stat (following a symlink for a root only); the listing is left to list_dir.
  DirStatus open_dir(OpenDir& dir, int& err) override;
  // fs.stat, as open_dir.
  bool stat_dir(OpenDir& dir) override;
  // fs.list into dir.entries and dir.keys; regular files' attributes are kept for open_file.
  bool list_dir(OpenDir& dir, ScanStats& stats, int& err) override;
  // Nothing is held open.
  void close_dir(OpenDir& dir) noexcept override;
  // From the listing's attributes; fs.stat when the listing came from the cache layer.
  bool stat_entry(OpenDir& dir, std::string_view name, FileKey& key) override;
  // fs.stat, no symlink followed.
  bool stat_file(const std::string& path, FileKey& key) override;
  // fs.open; facts from the listing's attributes (else fs.stat); a RemoteOpenFile.
  ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                       std::unique_ptr<OpenFile>& file) override;

 private:
  // The attributes a listing gave for `path` (taken: a file is opened once), else fs.stat.
  RemoteStatus attributes_of(const std::string& path, RemoteEntry& e, int& err);

  RemoteFileSystem& fs_;
  std::string mountinfo_;
  MountTable devices_;  // every mount point, for device numbers
  std::mutex mu_;
  std::unordered_map<std::string, RemoteEntry> listed_;  // regular files listed, not yet opened (bounded)
};

// An open remote file: read_at is one RemoteFile::read; read_all reads the whole file and one
// byte more in ONE read, so the file system can keep its requests for the whole file in flight.
class RemoteOpenFile final : public OpenFile {
 public:
  RemoteOpenFile(std::unique_ptr<RemoteFile> file, std::uint64_t size) : file_(std::move(file)), size_(size) {}
  // The size the listing (or stat) gave.
  std::uint64_t size() const noexcept override { return size_; }
  // One read.
  ReadStatus read_at(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) override;
  // One read of size + 1 bytes (growth and shrinking are noticed by the count read).
  ReadStatus read_all(ReadBuffer& buffer, bool& changed, int& err,
                      const std::function<void(std::uint64_t)>& reserve = {}) override;
  // False: a remote file cannot be re-stat-ed through its handle; the count read tells a change.
  bool changed_since_open() const override { return false; }

 private:
  std::unique_ptr<RemoteFile> file_;
  std::uint64_t size_;
};

}  // namespace keyward::scanner::detail
