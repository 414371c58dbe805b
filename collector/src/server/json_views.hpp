// SPDX-License-Identifier: Apache-2.0
// JSON views of the store's rows, as API v1 answers them and the command line prints them.
// Times are RFC 3339 UTC strings (null when unset). Never includes a token secret.
#pragma once

#include <keyward/collector/store.hpp>

#include <nlohmann/json.hpp>

namespace keyward::collector {

nlohmann::json to_json(const TokenInfo& t);
nlohmann::json to_json(const AgentInfo& a);
nlohmann::json to_json(const HostRow& h);
nlohmann::json to_json(const FindingRow& f);
nlohmann::json to_json(const KeyRow& k);
nlohmann::json to_json(const Event& e);
nlohmann::json to_json(const ExceptionInfo& x);
nlohmann::json to_json(const AuditEntry& a);

}  // namespace keyward::collector
