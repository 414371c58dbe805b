// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for a whole file's path through the scanner: text detectors, the binary
// sniffer and every binary detector, archives (libarchive) and nested members, with the bomb
// limits and a small password list.
#include <keyward/scanner/scan.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const keyward::scanner::ScanOptions options = [] {
    keyward::scanner::ScanOptions o;
    o.passwords = {"changeit"};
    o.nearby_passwords = false;
    o.password_max_time = std::chrono::milliseconds(50);
    o.archive_limits.max_expanded = 64u << 20;
    o.max_size = 16u << 20;
    return o;
  }();
  std::vector<keyward::scanner::Finding> out;
  keyward::scanner::ScanStats stats;
  keyward::scanner::scan_buffer(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", "fuzz", {},
                                options, out, stats);
  return 0;
}
