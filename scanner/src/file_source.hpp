// Reading one regular file safely: O_NOATIME where permitted, never following a symlink,
// never blocking on a FIFO, never past the size limit, and noticing a file that changes or
// vanishes while it is read. Used by: scan.cpp workers.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace keyward::scanner::detail {

// A reusable read buffer that is never zero-filled (std::string::resize would write every
// byte before read() overwrites it: measurable on a 2 GiB tree).
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
    size_ = n;
  }
  void shrink(std::size_t n) noexcept { size_ = std::min(size_, n); }
  // Frees the memory when it holds more than `keep` bytes.
  void trim(std::size_t keep) {
    if (cap_ > keep) {
      data_.reset();
      cap_ = size_ = 0;
    }
  }
  std::string_view view() const noexcept { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, cap_ = 0;
};

// What happened to one file.
enum class ReadStatus { ok, vanished, permission_denied, not_regular, too_large, io_error, changed };

// The stable stats key of a ReadStatus (skip reason).
std::string_view to_string(ReadStatus s) noexcept;

// Reads `path` into `buffer` (reused across calls) and fills `facts` from fstat.
// `changed` is set when size or mtime moved while reading (the data read is still returned).
// `reserve`, when given, is called with the file's size before its buffer is allocated (the
// scan's memory budget waits there); it is not called for files that are not read.
ReadStatus read_file(const std::string& path, std::uint64_t max_size, ReadBuffer& buffer, FileFacts& facts,
                     bool& changed, int& err, const std::function<void(std::uint64_t)>& reserve = {});

// The user name of a uid (cached); empty if unknown.
std::string owner_name(std::uint32_t uid);

}  // namespace keyward::scanner::detail
