// SPDX-License-Identifier: Apache-2.0
// The clean-up of a done item's copies on one host (clean_up_copies): only after the item is
// done, only with remove-source, only this host's copies, and never a file that changed since
// the plan saw it (docs/migration.md, "What runs where").
#include "support/temp_tree.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace keyward;
using namespace keyward::migrate;

namespace {

Place place_of(const std::string& host, const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  Place p;
  p.host = host, p.path = path, p.file_size = st.st_size, p.file_mtime = scanner::rfc3339(st.st_mtime);
  return p;
}

struct Scene {
  test::TempTree dir;
  PlanItem item;
  Scene() {
    for (const char* name : {"a.pem", "b.pem", "other.pem"}) std::ofstream(dir.path(name)) << "not really a key\n";
    item.id = "00000000000000e5";
    item.identity = "spki:" + std::string(64, 'e');
    item.state = ItemState::done;
    item.migrate_on = place_of("build-1", dir.path("a.pem"));
    item.places = {item.migrate_on, place_of("build-2", dir.path("b.pem")), place_of("build-2", dir.path("other.pem"))};
  }
  RunOptions on(const std::string& host, bool remove) const {
    RunOptions o;
    o.host = host, o.remove_source = remove;
    return o;
  }
};

}  // namespace

TEST_CASE("a done item's copies on this host are overwritten and removed, other hosts' are not touched") {
  Scene s;
  const ItemResult r = clean_up_copies(s.item, s.on("build-2", true));
  CHECK(r.outcome == Outcome::done);
  REQUIRE(r.cleanups.size() == 2);
  CHECK(r.cleanups[0].removed);
  CHECK(r.cleanups[1].removed);
  CHECK_FALSE(std::filesystem::exists(s.dir.path("b.pem")));
  CHECK_FALSE(std::filesystem::exists(s.dir.path("other.pem")));
  CHECK(std::filesystem::exists(s.dir.path("a.pem")));  // build-1's copy
}

TEST_CASE("nothing is removed before the item is done, without remove-source, or in a dry run") {
  Scene s;
  s.item.state = ItemState::approved;
  CHECK(clean_up_copies(s.item, s.on("build-2", true)).outcome == Outcome::refused);
  s.item.state = ItemState::done;
  const ItemResult off = clean_up_copies(s.item, s.on("build-2", false));
  CHECK(off.outcome == Outcome::refused);
  CHECK(off.cleanups.empty());
  RunOptions dry = s.on("build-2", true);
  dry.dry_run = true;
  const ItemResult d = clean_up_copies(s.item, dry);
  CHECK(d.outcome == Outcome::dry_run);
  CHECK(d.actions.size() == 2);
  CHECK(std::filesystem::exists(s.dir.path("b.pem")));
  CHECK(std::filesystem::exists(s.dir.path("other.pem")));
}

TEST_CASE("a copy that changed since the plan, or sits inside an archive, is left and said why") {
  Scene s;
  std::ofstream(s.dir.path("b.pem"), std::ios::app) << "a new line: this is another file now\n";
  s.item.places[2].member = "keys/inner.pem";
  const ItemResult r = clean_up_copies(s.item, s.on("build-2", true));
  CHECK(r.outcome == Outcome::failed);
  REQUIRE(r.cleanups.size() == 2);
  CHECK_FALSE(r.cleanups[0].removed);
  CHECK(r.cleanups[0].error.find("changed") != std::string::npos);
  CHECK_FALSE(r.cleanups[1].removed);
  CHECK(r.cleanups[1].error.find("by hand") != std::string::npos);
  CHECK(std::filesystem::exists(s.dir.path("b.pem")));
  CHECK(std::filesystem::exists(s.dir.path("other.pem")));
}
