// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the agent's URL parser (agents/daemon/src/url.cpp), which reads the
// collector URL and the HTTP proxy (`proxy: http://host:port`) from agent.yaml and enrollment
// arguments. Must hold: it never throws; what it accepts is http or https with a host, a numeric
// port in 1..65535 and a path that is empty or starts with '/'; an accepted URL, written back,
// parses to the same parts.
#include "url.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

bool valid_port(const std::string& p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned long n = 0;
  for (const char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::agent;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto url = parse_url(text);
  if (!url) return 0;
  if (url->scheme != "https" && url->scheme != "http") __builtin_trap();
  if (url->host.empty() || !valid_port(url->port)) __builtin_trap();
  if (!url->path.empty() && url->path.front() != '/') __builtin_trap();
  const bool v6 = url->host.find(':') != std::string::npos;
  const std::string again =
      url->scheme + "://" + (v6 ? "[" + url->host + "]" : url->host) + ":" + url->port + url->path;
  const auto reparsed = parse_url(again);
  if (!reparsed || reparsed->host != url->host || reparsed->port != url->port || reparsed->path != url->path)
    __builtin_trap();
  (void)is_ip_literal(url->host);
  return 0;
}
