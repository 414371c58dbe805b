// libFuzzer target for read_zip_index (scanner/src/zip_index.hpp), the hand-written reader of a
// zip's central directory behind the fast archive path. Build with clang
// -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON). Besides memory errors it
// traps when an index it returns points outside the input: every member's name and data must
// lie within it, and a stored member's sizes must agree.
#include "zip_index.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto index = keyward::scanner::detail::read_zip_index(std::span<const std::uint8_t>(data, size), 100000);
  if (!index) return 0;
  const char* begin = reinterpret_cast<const char*>(data);
  for (const auto& m : index->members) {
    if (m.data_offset > size || m.compressed > size - m.data_offset) __builtin_trap();
    if (m.name.data() < begin || m.name.data() + m.name.size() > begin + size) __builtin_trap();
    if (!m.deflated && m.compressed != m.size) __builtin_trap();
  }
  return 0;
}
