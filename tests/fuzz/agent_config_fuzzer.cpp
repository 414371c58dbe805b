// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the agent's configuration reader (agent.yaml, agents/daemon/src/config.hpp):
// parse_config on the input as YAML, and parse_duration / parse_size on it as one value.
// A bad file must only ever throw ConfigError (file and key named), a bad value
// std::invalid_argument; a config that loads must load again from what render_config writes.
#include "config.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::agent;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  AgentConfig c;
  try {
    c = parse_config(text, "fuzz.yaml", "/etc/keyward");
  } catch (const ConfigError&) {
    c.source.clear();
  }
  if (!c.source.empty()) {
    // Outside the try: a rendered config that does not load again is a bug (std::terminate).
    const AgentConfig again = parse_config(render_config(c), "rendered.yaml", "/etc/keyward");
    if (again.interval != c.interval || again.max_file_size != c.max_file_size || again.roots.size() != c.roots.size())
      __builtin_trap();
  }
  if (size <= 64) {
    try {
      (void)parse_duration(text);
    } catch (const std::invalid_argument&) {
    }
    try {
      (void)parse_size(text);
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
