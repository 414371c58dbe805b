// SPDX-License-Identifier: Apache-2.0
// Reading one regular file safely: O_NOATIME where permitted, never following a symlink,
// never blocking on a FIFO, never past the size limit, and noticing a file that changes or
// vanishes while it is read; whole, or window by window so that memory does not grow with the
// file (issue 5). OpenFile is what any file source (walk/source.hpp) hands the reader; SourceFile
// is the local file system's. Used by: file_scan.cpp, walk/local_source.cpp (scan workers).
#pragma once

#include <keyward/scanner/skip_reason.hpp>

#include <keyward/scanner/finding.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

// A reusable read buffer that is never zero-filled (std::string::resize would write every
// byte before read() overwrites it: measurable on a 2 GiB tree), nor wiped after an ordinary
// file: scan_file wipes it when the file held key material (issue 12), which is rare.
class ReadBuffer {
 public:
  char* data() noexcept { return data_.get(); }
  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return cap_; }
  // Makes room for n bytes (contents not kept) and sets the size to n.
  void reset(std::size_t n) {
    if (n > cap_) {
      data_.reset(new char[n]);
      cap_ = n;
    }
    size_ = filled_ = n;
  }
  void shrink(std::size_t n) noexcept { size_ = std::min(size_, n); }
  // Frees the memory when it holds more than `keep` bytes.
  void trim(std::size_t keep) {
    if (cap_ > keep) {
      data_.reset();
      cap_ = size_ = filled_ = 0;
    }
  }
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  // Wipes every byte the current file may have put here since reset() (a window layout's
  // memmove and a short last window included), with OPENSSL_cleanse.
  void wipe() noexcept;

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, cap_ = 0;
  std::size_t filled_ = 0;  // the size reset() gave: the reach of this file's bytes
};

// What happened to one file.
enum class ReadStatus { ok, vanished, permission_denied, not_regular, too_large, io_error, changed };

// The skip reason a ReadStatus other than ok is counted under.
SkipReason skip_reason(ReadStatus s) noexcept;

// An open regular file of some source (a local file, later an archive member or a git blob):
// one virtual call per read, never per byte.
class OpenFile {
 public:
  virtual ~OpenFile() = default;
  // The size the file had when opened.
  virtual std::uint64_t size() const noexcept = 0;
  // Reads up to n bytes at `offset` (short only at the end of the file) into dst.
  virtual ReadStatus read_at(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) = 0;
  // Reads the whole file from the start into `buffer`, plus one byte to notice growth; `changed`
  // as for read_file. `reserve` as for read_file.
  virtual ReadStatus read_all(ReadBuffer& buffer, bool& changed, int& err,
                              const std::function<void(std::uint64_t)>& reserve = {}) = 0;
  // True when the file now has another size or mtime than at open.
  virtual bool changed_since_open() const = 0;
};

// An open local regular file, checked with fstat against the size limit; closed when destroyed.
class SourceFile final : public OpenFile {
 public:
  SourceFile() = default;
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;
  ~SourceFile() override;

  // Opens `path` and fills `facts` from fstat; anything but ok leaves the file closed
  // (too_large: facts are filled all the same).
  ReadStatus open(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err);
  // The size fstat gave at open.
  std::uint64_t size() const noexcept override { return size_; }
  // Reads up to n bytes at `offset` with pread.
  ReadStatus read_at(std::uint64_t offset, char* dst, std::size_t n, std::size_t& got, int& err) override;
  // Reads the whole file with read(), exactly the size fstat gave plus one byte.
  ReadStatus read_all(ReadBuffer& buffer, bool& changed, int& err,
                      const std::function<void(std::uint64_t)>& reserve = {}) override;
  // True when fstat now gives another size or mtime than at open.
  bool changed_since_open() const override;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::int64_t mtime_sec_ = 0, mtime_nsec_ = 0;
};

// How a file is read in windows: no window holds more than `size` bytes; each shares
// `lookbehind` bytes before and `lookahead` bytes after the part it owns with its neighbours,
// so the owned parts tile the file and a block that starts in one owned part lies whole in
// its window. Needs size > lookbehind + lookahead.
struct WindowLayout {
  std::size_t size;
  std::size_t lookbehind;
  std::size_t lookahead;
};

// One window: file bytes [offset, offset + data.size()); it owns [own_begin, own_end) of `data`.
struct Window {
  std::string_view data;
  std::uint64_t offset = 0;
  std::size_t own_begin = 0, own_end = 0;
};

// Reads `file` window by window into `buffer` (one buffer of layout.size + 1 bytes, each byte read
// once: a window keeps the tail of the one before) and calls `on_window` for each, in file order;
// stops early, with ok, when it returns false. `changed` is set when the file ended before the
// size fstat gave at open, grew past it, or its size or mtime moved by the end of the read.
ReadStatus read_windows(OpenFile& file, const WindowLayout& layout, ReadBuffer& buffer, bool& changed, int& err,
                        const std::function<bool(const Window&)>& on_window);

// Reads `path` into `buffer` (reused across calls) and fills `facts` from fstat.
// `changed` is set when size or mtime moved while reading (the data read is still returned).
// `reserve`, when given, is called with the file's size before its buffer is allocated (the
// scan's memory budget waits there); it is not called for files that are not read.
ReadStatus read_file(const std::string& path, std::uint64_t max_size, ReadBuffer& buffer, FileFacts& facts,
                     bool& changed, int& err, const std::function<void(std::uint64_t)>& reserve = {});

// The user name of a uid, looked up now (a scan remembers it: item_scan.hpp owner_of); empty if
// unknown.
std::string owner_name(std::uint32_t uid);

}  // namespace keyward::scanner::detail
