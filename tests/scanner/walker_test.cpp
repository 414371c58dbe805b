// SPDX-License-Identifier: Apache-2.0
// The walker (scanner/src/walk/): its exception boundary, its file source interface, the cache
// as a layer on the source, and the skip reasons' JSON names.
#include "walk/walker.hpp"
#include <keyward/scanner/skip_reason.hpp>
#include "support/keygen.hpp"
#include "support/temp_tree.hpp"
#include "walk/cached_source.hpp"
#include "walk/local_source.hpp"

#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_cache.hpp>

#include "support/python_check.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <new>
#include <set>
#include <stdexcept>
#include <thread>

using namespace keyward::scanner;
namespace d = keyward::scanner::detail;
namespace t = keyward::test;

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The local file system, but opening one file throws std::bad_alloc, another
// std::runtime_error, and listing one directory throws std::runtime_error.
class FaultySource : public d::LocalSource {
 public:
  std::atomic<int> thrown{0};

  d::ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                          std::unique_ptr<d::OpenFile>& file) override {
    if (ends_with(path, "/alloc.pem")) {
      ++thrown;
      throw std::bad_alloc();
    }
    if (ends_with(path, "/runtime.pem")) {
      ++thrown;
      throw std::runtime_error("injected fault");
    }
    return LocalSource::open_file(path, max_size, facts, err, file);
  }
  bool list_dir(d::OpenDir& dir, ScanStats& stats, int& err) override {
    if (ends_with(dir.path, "/cursed")) {
      ++thrown;
      throw std::runtime_error("injected listing fault");
    }
    return LocalSource::list_dir(dir, stats, err);
  }
};

// The local file system, counting what reaches it.
class CountingSource : public d::LocalSource {
 public:
  std::atomic<int> dirs_opened{0}, files_opened{0}, entries_stated{0};

  d::DirStatus open_dir(d::OpenDir& dir, int& err) override {
    ++dirs_opened;
    return LocalSource::open_dir(dir, err);
  }
  bool stat_entry(d::OpenDir& dir, std::string_view name, FileKey& key) override {
    ++entries_stated;
    return LocalSource::stat_entry(dir, name, key);
  }
  d::ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                          std::unique_ptr<d::OpenFile>& file) override {
    ++files_opened;
    return LocalSource::open_file(path, max_size, facts, err, file);
  }
};

// A tree with a key in each of four good files, two files whose opening throws (each holding a
// key too) and a directory whose listing throws.
struct FaultTree {
  t::TempTree tree;
  FaultTree() {
    tree.write("good/one.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("good/deep/two.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("mixed/three.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("mixed/alloc.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("mixed/runtime.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("cursed/hidden.pem", t::pkcs8_pem(t::ec_p256()));
    tree.write("four.pem", t::pkcs8_pem(t::ec_p256()));
  }
};

void check_faults_contained(const ScanResult& r, const std::string& root) {
  CHECK(r.complete);
  CHECK(r.stats.errors == 3);
  std::set<std::string> failed;
  for (const auto& e : r.errors) {
    failed.insert(e.path.substr(e.path.find_last_of('/') + 1));
    CHECK(e.what.find("the scan went on") != std::string::npos);
    CHECK(e.what.find("injected") == std::string::npos);  // an exception's text is never reported
  }
  CHECK(failed == std::set<std::string>{"alloc.pem", "runtime.pem", "cursed"});
  std::set<std::string> found;
  for (const auto& f : r.findings) found.insert(f.location.path.substr(root.size() + 1));
  CHECK(found == std::set<std::string>{"good/one.pem", "good/deep/two.pem", "mixed/three.pem", "four.pem"});
}

void settle() {
  std::this_thread::sleep_for(std::chrono::nanoseconds(ScanCache::kRacyNs) + std::chrono::milliseconds(100));
}

}  // namespace

TEST_CASE("an exception from one file or directory is counted as its error and the scan finds the other keys") {
  for (unsigned threads : {2u, 1u}) {
    CAPTURE(threads);
    FaultTree ft;
    FaultySource source;
    ScanOptions o;
    o.roots = {ft.tree.path()};
    o.threads = threads;
    const auto r = d::scan_source(o, source);
    CHECK(source.thrown == 3);
    check_faults_contained(r, ft.tree.path());
    CHECK(r.stats.files_scanned == 4);
  }
}

TEST_CASE("files a lister scans itself when the queue is full have their own exception boundary") {
  // One worker and more files in one directory than the queue holds (4,096): the files past
  // that are scanned inline by the lister, and every junk file throws. Each is its own error;
  // the listing goes on to the end, and the key among them is found.
  t::TempTree tree;
  constexpr int kJunk = 4300;
  for (int i = 0; i < kJunk; ++i) std::ofstream(tree.path("junk" + std::to_string(i)));
  tree.write("key.pem", t::pkcs8_pem(t::ec_p256()));
  struct JunkThrows : d::LocalSource {
    d::ReadStatus open_file(const std::string& path, std::uint64_t max_size, FileFacts& facts, int& err,
                            std::unique_ptr<d::OpenFile>& file) override {
      if (path.find("/junk") != std::string::npos) throw std::runtime_error("injected fault");
      return LocalSource::open_file(path, max_size, facts, err, file);
    }
  } source;
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 1;
  const auto r = d::scan_source(o, source);
  CHECK(r.complete);
  CHECK(r.stats.errors == kJunk);
  CHECK(r.stats.files_seen == kJunk + 1);
  CHECK(r.errors.size() == o.max_errors_listed);
  CHECK(r.findings.size() == 1);
}

TEST_CASE("an agent's scans in a row in one process survive the same faults, and a file that threw is not cached") {
  FaultTree ft;
  settle();
  FaultySource source;
  ScanOptions o;
  o.roots = {ft.tree.path()};
  o.threads = 2;
  t::TempTree elsewhere;
  const std::string cache_file = elsewhere.path("cache");
  const std::string fp = ScanCache::fingerprint(o);
  std::vector<std::string> ids;
  for (int round = 0; round < 2; ++round) {
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    const auto r = d::scan_source(o, source);
    check_faults_contained(r, ft.tree.path());
    // The second scan settles the good files from the cache; the ones that threw are tried again.
    CHECK(r.stats.files_cached == (round == 0 ? 0u : 4u));
    std::vector<std::string> these;
    for (const auto& f : r.findings) these.push_back(f.id);
    if (round == 0) ids = these;
    else CHECK(these == ids);
    cache.save(cache_file);
  }
  CHECK(source.thrown == 6);
}

TEST_CASE("the cache layer settles an unchanged tree with one stat per entry and opens nothing") {
  t::TempTree tree;
  tree.write("a/key.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("a/b/readme.txt", "nothing here\n");
  tree.write("c/notes.txt", "nor here\n");
  t::TempTree elsewhere;
  const std::string cache_file = elsewhere.path("cache");
  settle();
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 2;
  const std::string fp = ScanCache::fingerprint(o);
  {
    CountingSource first;
    auto cache = ScanCache::load(cache_file, fp);
    o.cache = &cache;
    const auto r = d::scan_source(o, first);
    CHECK(r.findings.size() == 1);
    CHECK(first.dirs_opened == 4);
    CHECK(first.files_opened == 3);
    cache.save(cache_file);
  }
  CountingSource again;
  auto cache = ScanCache::load(cache_file, fp);
  o.cache = &cache;
  const auto r = d::scan_source(o, again);
  CHECK(r.findings.size() == 1);
  CHECK(r.stats.files_cached == 3);
  CHECK(r.stats.dirs_cached == 4);
  CHECK(again.dirs_opened == 0);
  CHECK(again.files_opened == 0);
  CHECK(again.entries_stated == 3);
}

TEST_CASE("without a cache the walker takes no stat per entry") {
  t::TempTree tree;
  tree.write("a/key.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("a/b/readme.txt", "nothing here\n");
  CountingSource source;
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 2;
  const auto r = d::scan_source(o, source);
  CHECK(r.findings.size() == 1);
  CHECK(source.entries_stated == 0);
  CHECK(source.files_opened == 2);
}

TEST_CASE("every skip reason has a distinct JSON name and the findings schema lists exactly those names") {
  std::set<std::string_view> names(keyward::scanner::kSkipReasonNames.begin(),
                                   keyward::scanner::kSkipReasonNames.end());
  CHECK(names.size() == keyward::scanner::kSkipReasonNames.size());
  CHECK(keyward::scanner::to_json(keyward::scanner::SkipReason::excluded) == "excluded");
  CHECK(keyward::scanner::to_json(keyward::scanner::SkipReason::changed_during_scan) == "changed_during_scan");
  CHECK(keyward::scanner::to_json(keyward::scanner::SkipReason::archive_unreadable) == "archive_unreadable");

  // The schema of the source tree this suite was built from.
  std::ifstream in(keyward::test::source_dir() + "/docs/findings.schema.json");
  REQUIRE(in.is_open());
  const auto schema = nlohmann::json::parse(in);
  std::string listed;
  // The description of scan.stats.skipped: "..., by reason: a, b (note), c, ...".
  const std::function<void(const nlohmann::json&)> find = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      if (j.contains("skipped") && j["skipped"].is_object() && j["skipped"].contains("description"))
        listed = j["skipped"]["description"].get<std::string>();
      for (const auto& [k, v] : j.items()) find(v);
    } else if (j.is_array()) {
      for (const auto& v : j) find(v);
    }
  };
  find(schema);
  REQUIRE(listed.find("by reason: ") != std::string::npos);
  listed = listed.substr(listed.find("by reason: ") + 11);
  for (std::size_t open; (open = listed.find(" (")) != std::string::npos;)  // drop "(a note)"
    listed.erase(open, listed.find(')', open) + 1 - open);
  std::set<std::string> documented;
  for (std::size_t at = 0; at < listed.size();) {
    std::size_t end = listed.find(", ", at);
    if (end == std::string::npos) end = listed.size();
    documented.insert(listed.substr(at, end - at));
    at = end + 2;
  }
  const std::set<std::string> ours(keyward::scanner::kSkipReasonNames.begin(),
                                   keyward::scanner::kSkipReasonNames.end());
  CHECK(documented == ours);
}

TEST_CASE("an exception's message names its type and never its text") {
  CHECK(d::describe_exception(std::make_exception_ptr(std::bad_alloc())).find("out of memory") == 0);
  const std::string m = d::describe_exception(std::make_exception_ptr(std::runtime_error("-----BEGIN PRIVATE")));
  CHECK(m.find("std::runtime_error") != std::string::npos);
  CHECK(m.find("BEGIN") == std::string::npos);
}
