// SPDX-License-Identifier: Apache-2.0
#include "pacer.hpp"

#include <doctest/doctest.h>

#include <chrono>

using keyward::agent::Pacer;

namespace {

// Burns CPU for a while, pacing between slices like the scanner between files; returns the
// CPU/wall ratio.
double busy_ratio(Pacer& pacer, std::chrono::milliseconds total) {
  const auto wall0 = std::chrono::steady_clock::now();
  const auto cpu0 = Pacer::process_cpu_time();
  volatile std::uint64_t sink = 0;
  while (std::chrono::steady_clock::now() - wall0 < total) {
    for (int i = 0; i < 200000; ++i) sink = sink + static_cast<std::uint64_t>(i) * 31u;
    pacer.pace();
  }
  const auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const auto cpu = std::chrono::duration<double>(Pacer::process_cpu_time() - cpu0).count();
  return cpu / wall;
}

}  // namespace

TEST_CASE("pacing keeps a busy loop near the CPU target") {
  Pacer pacer(20);
  const double ratio = busy_ratio(pacer, std::chrono::milliseconds(1500));
  MESSAGE("CPU/wall at a 20% target: " << ratio);
  CHECK(ratio < 0.5);
  CHECK(pacer.slept() > std::chrono::milliseconds(500));
}

TEST_CASE("at 100 percent the pacer never sleeps") {
  Pacer pacer(100);
  busy_ratio(pacer, std::chrono::milliseconds(200));
  CHECK(pacer.slept() == std::chrono::nanoseconds(0));
}

TEST_CASE("a cancelled scan is not held up by pacing") {
  std::atomic<bool> cancel{true};
  Pacer pacer(1, &cancel);
  const auto t0 = std::chrono::steady_clock::now();
  busy_ratio(pacer, std::chrono::milliseconds(300));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}
