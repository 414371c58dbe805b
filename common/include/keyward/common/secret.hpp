// SPDX-License-Identifier: Apache-2.0
// Secrets wiped by type (issue 12): SecretBytes owns one buffer of key bytes, base64 text of a
// key, a file's bytes that held key material, a password or a PIN, and wipes it with
// OPENSSL_cleanse whenever it lets go of it: on destruction, on clear(), when it grows (the old
// storage) and when it is assigned over. It cannot be copied, only moved; a moved-from one is
// empty. An early return cannot skip the wipe, since the destructor does it. SecretList is an
// immutable list of them that copies share (ScanOptions' passwords).
// Used by: the scanner (decoded key bodies, base64 text, read buffers, password lists), rules
// (password files), the agent (its enrollment key). Never prints, logs or compares its bytes
// with anything but another secret (in constant time).
// The one header of common that a public header may include: it names no third-party type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <memory_resource>
#include <span>
#include <string_view>
#include <vector>

namespace keyward::common {

// An owning, move-only byte buffer that wipes what it held. Its bytes are followed by a NUL (for
// C APIs that take a password as a string); they may hold NULs of their own.
class SecretBytes {
 public:
  // Empty, allocating from `memory`; null: std::pmr::get_default_resource(), the heap unless a
  // test installs a resource that checks what is handed back (a secure heap could be one too).
  explicit SecretBytes(std::pmr::memory_resource* memory = nullptr) noexcept;
  // n zero bytes.
  explicit SecretBytes(std::size_t n, std::pmr::memory_resource* memory = nullptr);
  // A copy of `data` (e.g. a password cut out of a file being parsed).
  static SecretBytes copy_of(std::string_view data, std::pmr::memory_resource* memory = nullptr);
  // The same over bytes.
  static SecretBytes copy_of(std::span<const std::uint8_t> data, std::pmr::memory_resource* memory = nullptr);

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  // Takes the other's storage; the other is left empty.
  SecretBytes(SecretBytes&& other) noexcept;
  // Wipes and frees this one's storage, then takes the other's; the other is left empty.
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  // Wipes the whole storage (not only the bytes in use) and frees it.
  ~SecretBytes();

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  // The bytes, as bytes or as text (valid until the next change).
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  std::span<std::uint8_t> bytes() noexcept { return {data_, size_}; }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
  // NUL-terminated ("" when empty).
  const char* c_str() const noexcept { return data_ != nullptr ? reinterpret_cast<const char*>(data_) : ""; }

  // Room for n bytes without another allocation; the old storage is wiped when it moves.
  void reserve(std::size_t n);
  // Grows with zero bytes, or shrinks (the bytes cut off are wiped).
  void resize(std::size_t n);
  // Wipes the bytes in use; the storage is kept.
  void clear() noexcept;
  void push_back(std::uint8_t b) {
    if (size_ == capacity_) grow(size_ + 1);
    data_[size_++] = b;
    data_[size_] = 0;
  }
  void append(std::span<const std::uint8_t> more);
  void append(std::string_view more);
  // Room for n more bytes past size(), not zero-filled (a reader writes there), then appended(k)
  // takes the first k of them (k <= n). Bytes written there and not taken are wiped all the same.
  std::uint8_t* append_space(std::size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    return data_ + size_;
  }
  void appended(std::size_t k) noexcept {
    if (k == 0) return;
    size_ += k;
    data_[size_] = 0;
  }

  // Constant-time comparison of the bytes (CRYPTO_memcmp after the lengths).
  friend bool operator==(const SecretBytes& a, const SecretBytes& b) noexcept;

 private:
  void grow(std::size_t at_least);
  void release() noexcept;  // wipes and frees the storage

  std::uint8_t* data_ = nullptr;  // capacity_ + 1 bytes (the NUL)
  std::size_t size_ = 0, capacity_ = 0;
  std::pmr::memory_resource* memory_;
};

// An immutable list of secrets (passwords): copies share it, and the last one to go wipes it.
class SecretList {
 public:
  SecretList() = default;
  explicit SecretList(std::vector<SecretBytes> items);
  // Fixed lists (tests, a built-in word).
  SecretList(std::initializer_list<std::string_view> items);

  std::span<const SecretBytes> items() const noexcept {
    return items_ ? std::span<const SecretBytes>(*items_) : std::span<const SecretBytes>();
  }
  auto begin() const noexcept { return items().begin(); }
  auto end() const noexcept { return items().end(); }
  std::size_t size() const noexcept { return items().size(); }
  bool empty() const noexcept { return size() == 0; }

 private:
  std::shared_ptr<const std::vector<SecretBytes>> items_;
};

}  // namespace keyward::common
