// SPDX-License-Identifier: Apache-2.0
// SecretBytes and SecretList: OPENSSL_cleanse over the whole storage before it is handed back.
#include <keyward/common/secret.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace keyward::common {

SecretBytes::SecretBytes(std::pmr::memory_resource* memory) noexcept
    : memory_(memory != nullptr ? memory : std::pmr::get_default_resource()) {}

SecretBytes::SecretBytes(std::size_t n, std::pmr::memory_resource* memory) : SecretBytes(memory) { resize(n); }

SecretBytes SecretBytes::copy_of(std::string_view data, std::pmr::memory_resource* memory) {
  SecretBytes out(memory);
  out.append(data);
  return out;
}

SecretBytes SecretBytes::copy_of(std::span<const std::uint8_t> data, std::pmr::memory_resource* memory) {
  SecretBytes out(memory);
  out.append(data);
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)),
      memory_(other.memory_) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    memory_ = other.memory_;
  }
  return *this;
}

SecretBytes::~SecretBytes() { release(); }

void SecretBytes::release() noexcept {
  if (data_ == nullptr) return;
  OPENSSL_cleanse(data_, capacity_ + 1);
  memory_->deallocate(data_, capacity_ + 1);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void SecretBytes::grow(std::size_t at_least) {
  // Doubling, as a vector does: appending a line at a time stays linear.
  const std::size_t want = std::max({at_least, capacity_ * 2, std::size_t{31}});
  auto* fresh = static_cast<std::uint8_t*>(memory_->allocate(want + 1));
  if (size_ != 0) std::memcpy(fresh, data_, size_);
  fresh[size_] = 0;
  const std::size_t size = size_;
  release();  // the old copy of the bytes is wiped before it goes back
  data_ = fresh;
  size_ = size;
  capacity_ = want;
}

void SecretBytes::reserve(std::size_t n) {
  if (n > capacity_) grow(n);
}

void SecretBytes::resize(std::size_t n) {
  if (n > capacity_) grow(n);
  if (data_ == nullptr) return;  // n == 0 and nothing allocated
  if (n > size_) std::memset(data_ + size_, 0, n - size_);
  else OPENSSL_cleanse(data_ + n, size_ - n);
  size_ = n;
  data_[size_] = 0;
}

void SecretBytes::clear() noexcept {
  if (data_ == nullptr) return;
  OPENSSL_cleanse(data_, size_);
  size_ = 0;
  data_[0] = 0;
}

void SecretBytes::append(std::span<const std::uint8_t> more) {
  if (more.empty()) return;
  if (size_ + more.size() > capacity_) grow(size_ + more.size());
  std::memcpy(data_ + size_, more.data(), more.size());
  size_ += more.size();
  data_[size_] = 0;
}

void SecretBytes::append(std::string_view more) {
  append(std::span(reinterpret_cast<const std::uint8_t*>(more.data()), more.size()));
}

bool operator==(const SecretBytes& a, const SecretBytes& b) noexcept {
  return a.size_ == b.size_ && (a.size_ == 0 || CRYPTO_memcmp(a.data_, b.data_, a.size_) == 0);
}

SecretList::SecretList(std::vector<SecretBytes> items)
    : items_(std::make_shared<const std::vector<SecretBytes>>(std::move(items))) {}

SecretList::SecretList(std::initializer_list<std::string_view> items) {
  std::vector<SecretBytes> v;
  v.reserve(items.size());
  for (std::string_view s : items) v.push_back(SecretBytes::copy_of(s));
  items_ = std::make_shared<const std::vector<SecretBytes>>(std::move(v));
}

}  // namespace keyward::common
