// SPDX-License-Identifier: Apache-2.0
#include "encoding.hpp"

namespace keyward::scanner::detail {

bool Reader::u8(std::uint8_t& v) {
  if (remaining() < 1) return false;
  v = data_[pos_++];
  return true;
}
bool Reader::u16(std::uint16_t& v) {
  if (remaining() < 2) return false;
  v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return true;
}
bool Reader::u32(std::uint32_t& v) {
  if (remaining() < 4) return false;
  v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
  pos_ += 4;
  return true;
}
bool Reader::bytes(std::size_t n, std::span<const std::uint8_t>& out) {
  if (remaining() < n) return false;
  out = data_.subspan(pos_, n);
  pos_ += n;
  return true;
}
bool Reader::ssh_string(std::span<const std::uint8_t>& out) {
  std::uint32_t n = 0;
  const std::size_t save = pos_;
  if (!u32(n) || !bytes(n, out)) {
    pos_ = save;
    return false;
  }
  return true;
}
bool Reader::ssh_string(std::string_view& out) {
  std::span<const std::uint8_t> s;
  if (!ssh_string(s)) return false;
  out = std::string_view(reinterpret_cast<const char*>(s.data()), s.size());
  return true;
}
bool Reader::skip(std::size_t n) {
  if (remaining() < n) return false;
  pos_ += n;
  return true;
}

}  // namespace keyward::scanner::detail
