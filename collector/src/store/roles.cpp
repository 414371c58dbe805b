// SPDX-License-Identifier: Apache-2.0
// String forms of Role, AgentStatus, ExceptionKind and a principal's actor id (API, audit log, database);
// Outcome's value() error.
#include <keyward/collector/store.hpp>

namespace keyward::collector {

std::string_view to_string(Role r) noexcept {
  switch (r) {
    case Role::viewer:
      return "viewer";
    case Role::analyst:
      return "analyst";
    case Role::approver:
      return "approver";
    case Role::admin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> role_from_string(std::string_view s) noexcept {
  for (Role r : {Role::viewer, Role::analyst, Role::approver, Role::admin})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::string_view to_string(HostSource s) noexcept { return s == HostSource::remote ? "remote" : "agent"; }

std::string remote_host_id(std::string_view name) { return "ssh:" + std::string(name); }

std::string_view to_string(AgentStatus s) noexcept {
  switch (s) {
    case AgentStatus::pending:
      return "pending";
    case AgentStatus::approved:
      return "approved";
    case AgentStatus::revoked:
      return "revoked";
  }
  return "pending";
}

std::string_view to_string(ExceptionKind k) noexcept {
  return k == ExceptionKind::false_positive ? "false_positive" : "accepted_risk";
}

std::optional<ExceptionKind> exception_kind_from_string(std::string_view s) noexcept {
  for (ExceptionKind k : {ExceptionKind::accepted_risk, ExceptionKind::false_positive})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

std::string principal_actor_id(std::string_view principal) { return "principal:" + std::string(principal); }

void throw_exception_from_error(const Refusal& r, const boost::source_location& /*loc*/) {
  throw StoreError(r.code + ": " + r.message);
}

}  // namespace keyward::collector
