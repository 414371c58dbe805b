#include <keyward/ssh/remote_scan.hpp>

namespace keyward::ssh {

std::string_view to_string(Mode m) noexcept { return m == Mode::exec ? "exec" : "sftp"; }

std::optional<Mode> parse_mode(std::string_view s) noexcept {
  if (s == "sftp") return Mode::sftp;
  if (s == "exec") return Mode::exec;
  return std::nullopt;
}

std::string_view to_string(HostStatus s) noexcept {
  switch (s) {
    case HostStatus::ok: return "ok";
    case HostStatus::unreachable: return "unreachable";
    case HostStatus::host_key_unknown: return "host_key_unknown";
    case HostStatus::host_key_mismatch: return "host_key_mismatch";
    case HostStatus::auth_refused: return "auth_refused";
    case HostStatus::incompatible: return "incompatible";
    case HostStatus::partial: return "partial";
    case HostStatus::error: return "error";
  }
  return "error";
}

// SKELETON (branch i16-base only): the real scan_host lands with session.cpp / sftp_fs.cpp.
HostResult scan_host(const Target& target, const RemoteScanOptions&) {
  HostResult r;
  r.target = target;
  r.status = HostStatus::error;
  r.message = "remote scans are not built yet";
  return r;
}

}  // namespace keyward::ssh
