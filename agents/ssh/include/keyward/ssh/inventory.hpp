// SPDX-License-Identifier: Apache-2.0
// A hosts list for remote scans (keyward remote --inventory, the collector's remote_scans):
// YAML, documented in docs/remote.md. Used by: the CLI, the collector.
#pragma once

#include <keyward/ssh/remote_scan.hpp>
#include <keyward/ssh/target.hpp>

#include <optional>
#include <string>
#include <vector>

namespace keyward::ssh {

// One host of an inventory, with the defaults applied.
struct InventoryHost {
  std::string name;                // how reports name it: `name:` or the target's label
  Target target;
  std::vector<std::string> paths;  // remote roots (default: ["/"])
  Mode mode = Mode::sftp;
  std::string identity_file;       // "" : the command's -i, else ssh-agent and default keys
  std::string known_hosts;         // "" : the command's --known-hosts
};

// Reads an inventory file; throws std::runtime_error naming the file, line and key.
std::vector<InventoryHost> load_inventory(const std::string& path);

}  // namespace keyward::ssh
