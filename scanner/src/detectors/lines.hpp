// SPDX-License-Identifier: Apache-2.0
// A line reader over text: lines end in "\n" or "\r\n"; the last line may lack a terminator.
// Used by: the line-oriented text parsers (pgp.cpp, sshcom.cpp, putty.cpp). Private to the
// scanner. Never copies the text: lines are views into it.
#pragma once

#include <cstddef>
#include <string_view>

namespace keyward::scanner::detail {

// Splits text into lines without their terminators.
class Lines {
 public:
  // Reads from the start of text (which must outlive the reader).
  explicit Lines(std::string_view text) : text_(text) {}
  // The next line without its terminator; false at the end of the text.
  bool next(std::string_view& line, bool& terminated) {
    if (pos_ >= text_.size()) return false;
    const std::size_t nl = text_.find('\n', pos_);
    const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    terminated = nl != std::string_view::npos;
    pos_ = terminated ? nl + 1 : text_.size();
    return true;
  }
  // The offset of the next line's first byte.
  std::size_t position() const noexcept { return pos_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace keyward::scanner::detail
