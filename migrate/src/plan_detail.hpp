// SPDX-License-Identifier: Apache-2.0
// Private to keyward::migrate: what the plan builder and its steps share.
#pragma once

#include <keyward/migrate/plan.hpp>

#include <string>
#include <string_view>

namespace keyward::migrate::detail {

// The policy rule and profile an item goes to (nullptr when no rule matched).
struct Chosen {
  const PolicyRule* rule = nullptr;
  const Profile* profile = nullptr;
};

// `s` quoted for a POSIX shell ('...', a quote inside as '\'').
std::string sh_quote(std::string_view s);

// The hex CKA_ID an item's key gets: the SPKI hash of an imported key (its identity), else the
// item id (a regenerated key's SPKI is not known before it exists).
std::string key_id_hex(const PlanItem& item);

// Fills item.steps: the migration (pkcs11-tool / openssl by hand), verification, certificate
// actions and one clean-up per place. Needs strategy, target, places and certificates set.
void add_steps(PlanItem& item, const std::vector<std::string>& cert_paths);

}  // namespace keyward::migrate::detail
