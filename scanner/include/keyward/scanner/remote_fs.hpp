// SPDX-License-Identifier: Apache-2.0
// A file tree reached through something other than this machine's kernel: today SFTP
// (agents/ssh, docs/remote.md). The scanner walks it with the same walker, exclude rules, size
// limits and detectors as a local tree (scanner/src/walk/remote_source.cpp adapts it to the
// walker's FileSource; docs/architecture.md, "Where each kind of change goes"), so a remote scan
// gives the same findings, with the same ids, as a local scan of the same files.
// Nothing read through it is written to local disk: file contents live in the scan's read
// buffers only. No libssh type appears here.
// Used by: agents/ssh (the SFTP implementation), tests.
#pragma once

#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace keyward::scanner {

// What an entry is, as the remote side says (symlinks are never followed below a root).
enum class RemoteType : std::uint8_t { regular, directory, symlink, other, unknown };

// An entry's attributes as the remote side gives them (SFTP v3: no device or inode numbers).
struct RemoteEntry {
  std::string name;  // in a listing: the entry's name; from stat(): empty
  RemoteType type = RemoteType::unknown;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // SFTP v3 gives whole seconds
  std::uint32_t mode = 0;     // permission and type bits as the server gives them (0: unknown)
  std::uint32_t uid = 0, gid = 0;
  std::string owner;  // the owner's user name when the server names it, else ""
};

// How one remote operation ended. `err` out-parameters carry an errno value for the scan's
// error list (ENOENT, EACCES, ENOTDIR, EIO, ETIMEDOUT, ECONNRESET).
enum class RemoteStatus { ok, not_found, permission_denied, not_directory, failed };

// An open remote file; used by one scan worker at a time.
class RemoteFile {
 public:
  virtual ~RemoteFile() = default;
  // Reads up to n bytes at `offset` into dst; `got` < n only at the end of the file. An
  // implementation keeps several requests in flight for a large n (one round trip per file,
  // not per chunk).
  virtual RemoteStatus read(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) = 0;
};

// A remote tree. Thread-safe: the scan's workers call it at once (an SFTP implementation keeps
// one session per worker, or serialises).
class RemoteFileSystem {
 public:
  virtual ~RemoteFileSystem() = default;
  // Stats `path`: without following a symlink, or following it (a root may be a symlink).
  virtual RemoteStatus stat(const std::string& path, bool follow, RemoteEntry& out, int& err) = 0;
  // The whole listing of a directory, '.' and '..' left out, each entry with its attributes.
  virtual RemoteStatus list(const std::string& path, std::vector<RemoteEntry>& out, int& err) = 0;
  // Opens a regular file for reading.
  virtual RemoteStatus open(const std::string& path, std::unique_ptr<RemoteFile>& out, int& err) = 0;
  // The remote /proc/self/mountinfo ("" when it cannot be read): which directories are pseudo or
  // network file systems, and where file systems change for --one-file-system.
  virtual std::string mountinfo() = 0;
  // True once the connection is lost for good: the scan stops and is reported incomplete.
  virtual bool lost() const = 0;
};

// Scans options.roots (remote absolute paths) of `fs`: the same walk, limits and detectors as
// scan(). Findings' location.host is set to `host` (the label a report shows, e.g.
// "build-1:2222"); ids do not include it. Throws std::runtime_error when no root can be scanned.
ScanResult scan(const ScanOptions& options, RemoteFileSystem& fs, const std::string& host);

}  // namespace keyward::scanner
