// SPDX-License-Identifier: Apache-2.0
// Work over many findings on every core: [0, n) cut into contiguous slices, one thread each
// (the calling thread takes the first), joined before returning. An exception in a slice is
// rethrown here after all are joined. Used by: rule scoring and the JSON report, which on a
// machine's thousands of findings were a serial tail after a parallel scan.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace keyward::scanner {

// How many slices for_slices cuts n items into: one a core, each of at least `grain` items.
inline std::size_t slice_count(std::size_t n, std::size_t grain) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp<std::size_t>(n / std::max<std::size_t>(grain, 1), 1, cores);
}

// Calls fn(slice, begin, end) for each of slice_count(n, grain) slices, slice 0 on this thread.
template <class Fn>
void for_slices(std::size_t n, std::size_t grain, Fn&& fn) {
  const std::size_t slices = slice_count(n, grain);
  std::vector<std::exception_ptr> errors(slices);
  std::vector<std::thread> threads;
  auto run = [&](std::size_t s) {
    try {
      fn(s, n * s / slices, n * (s + 1) / slices);
    } catch (...) {
      errors[s] = std::current_exception();
    }
  };
  for (std::size_t s = 1; s < slices; ++s) threads.emplace_back(run, s);
  run(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace keyward::scanner
