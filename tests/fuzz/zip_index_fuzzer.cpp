// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the hand-written reader of a zip's central directory
// (scanner/src/zip_index.hpp) behind the fast archive paths: read_zip_index over bytes in memory,
// and find_zip_directory / read_zip_directory / locate_zip_data as a large file's path uses
// them, from its tail. Build with clang -fsanitize=fuzzer,address,undefined
// (KEYWARD_BUILD_FUZZERS=ON). Besides memory errors it traps when an index points outside the
// input: every member's name and data must lie within it, and a stored member's sizes must agree.
#include "zip_index.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace d = keyward::scanner::detail;

// The path of a large zip on disk: the directory found from only the last bytes (how many, the
// first byte says), listed from its own bytes, and each member's local header located.
void from_tail(std::span<const std::uint8_t> zip) {
  if (zip.empty()) return;
  const std::size_t tail = std::min(zip.size(), std::size_t{22} + zip[0] * 97u);
  const auto dir = d::find_zip_directory(zip.last(tail), zip.size());
  if (!dir) return;
  if (dir->offset > zip.size() || dir->size > zip.size() - dir->offset) __builtin_trap();
  auto index = d::read_zip_directory(zip.subspan(dir->offset, dir->size), *dir, 100000);
  if (!index) return;
  for (auto& m : index->members) {
    if (m.local_offset >= dir->offset) __builtin_trap();
    if (d::locate_zip_data(zip.subspan(m.local_offset), m, *dir) &&
        (m.data_offset > dir->offset || m.compressed > dir->offset - m.data_offset))
      __builtin_trap();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  from_tail(std::span<const std::uint8_t>(data, size));
  const auto index = d::read_zip_index(std::span<const std::uint8_t>(data, size), 100000);
  if (!index) return 0;
  const char* begin = reinterpret_cast<const char*>(data);
  for (const auto& m : index->members) {
    if (m.data_offset > size || m.compressed > size - m.data_offset) __builtin_trap();
    if (m.name.data() < begin || m.name.data() + m.name.size() > begin + size) __builtin_trap();
    if (!m.deflated && m.compressed != m.size) __builtin_trap();
  }
  return 0;
}
