// SPDX-License-Identifier: Apache-2.0
// The clean-up of a done item's copies on one host (execute.hpp, clean_up_copies): no token, only
// the files the plan named, each removed only if it is still what the plan saw
// (docs/migration.md, "What runs where").
#include "item_run.hpp"

#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <string>

namespace keyward::migrate {
namespace {

// "" when the file at the place is still the one the plan saw, else why not.
std::string changed_since_plan(const Place& p) {
  struct stat st {};
  if (::lstat(p.path.c_str(), &st) != 0) return "it is gone already or unreadable";
  if (!S_ISREG(st.st_mode)) return "it is not a regular file any more";
  if (p.file_size != 0 && st.st_size != p.file_size)
    return fmt::format("its size changed since the plan ({} bytes, the plan saw {})", st.st_size, p.file_size);
  if (!p.file_mtime.empty() && scanner::rfc3339(st.st_mtime) != p.file_mtime)
    return fmt::format("it was modified since the plan ({}, the plan saw {})", scanner::rfc3339(st.st_mtime),
                       p.file_mtime);
  return {};
}

Cleanup clean_one(const Place& p, const RunOptions& o, ItemResult& r) {
  Cleanup c{p.path, false, {}};
  if (!p.member.empty()) c.error = "the key is inside an archive or store (" + p.member + "): remove it by hand";
  else c.error = changed_since_plan(p);
  if (c.error.empty() && o.dry_run) {
    r.actions.push_back(fmt::format("would overwrite and remove {}", p.path));
    return c;
  }
  if (c.error.empty()) c.error = exec::overwrite_and_remove(p.path);
  c.removed = c.error.empty();
  r.actions.push_back(c.removed ? fmt::format("overwrote and removed {}", p.path)
                                : fmt::format("left {}: {}", p.path, c.error));
  if (o.say) o.say(r.actions.back());
  return c;
}

}  // namespace

ItemResult clean_up_copies(const PlanItem& item, const RunOptions& o) {
  ItemResult r = result_for(item, o.host);
  r.label = exec::object_label(item);
  r.outcome = Outcome::refused;
  if (item.state != ItemState::done)
    r.message =
        fmt::format("item is {}: copies are removed only after the key was moved and verified", to_string(item.state));
  else if (!o.remove_source)
    r.message = "remove-source is off: the copies stay (the plan's clean-up steps say how to remove them)";
  if (r.message.empty()) {
    std::size_t removed = 0;
    for (const Place& p : item.places) {
      if (p.host != o.host) continue;
      r.cleanups.push_back(clean_one(p, o, r));
      removed += r.cleanups.back().removed ? 1 : 0;
    }
    const std::size_t n = r.cleanups.size();
    r.outcome = o.dry_run ? Outcome::dry_run : removed == n ? Outcome::done : Outcome::failed;
    r.message = n == 0 ? std::string("no copy of this key is planned on this host")
                       : fmt::format("{} of {} cop{} on this host removed", removed, n, n == 1 ? "y" : "ies");
  }
  r.finished_at = now_rfc3339();
  return r;
}

}  // namespace keyward::migrate
