// SPDX-License-Identifier: Apache-2.0
// Exec mode (docs/remote.md, "Modes"): this keyward binary runs on the host itself. One shell
// session does everything, so that its exit trap removes what was copied whatever happens:
// make a private temporary directory (mktemp, mode 0700), receive the binary (and any --passwords
// files) on stdin, check that it runs there, and run `keyward scan --format jsonl` with
// --remove-dir (the copy is deleted as soon as the scan has started) and --stop-on-stdin-eof
// (a cut connection ends the remote scan). Refused, with the reason, when the host is not Linux
// on this machine's architecture or the binary cannot run there. Used by: remote_scan.cpp.
#pragma once

#include <keyward/ssh/remote_scan.hpp>

namespace keyward::ssh::detail {

HostResult exec_scan(const Target& target, const RemoteScanOptions& options);

// The remote keyward's command line for these scan options (flags, then "--" and the roots);
// the password file, when there is one, is `passwords_path`.
std::string remote_scan_arguments(const scanner::ScanOptions& o, const std::string& passwords_path);

}  // namespace keyward::ssh::detail
