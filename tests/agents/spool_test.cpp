// SPDX-License-Identifier: Apache-2.0
#include "spool.hpp"
#include "gzip.hpp"

#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <string>

using keyward::agent::Spool;

namespace {

std::string id(int n) {
  std::string s = "0123456789abcdef0123456789abcdef";
  s[31] = "0123456789abcdef"[n % 16];
  s[30] = "0123456789abcdef"[(n / 16) % 16];
  return s;
}

// Incompressible-ish text of about n bytes, so spool sizes are predictable.
std::string noise(std::size_t n, unsigned seed) {
  std::string s;
  std::uint64_t x = seed * 2654435761u + 1;
  while (s.size() < n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s += static_cast<char>('!' + (x % 90));
  }
  return s;
}

}  // namespace

TEST_CASE("spooled reports are listed oldest first and leave only when removed") {
  keyward::test::TempTree t;
  Spool spool(t.path("spool"), 1 << 20);
  spool.add(id(1), R"({"n":1})");
  spool.add(id(2), R"({"n":2})");
  spool.add(id(3), R"({"n":3})");
  auto list = spool.list();
  REQUIRE(list.size() == 3);
  CHECK(list[0].report_id == id(1));
  CHECK(list[1].report_id == id(2));
  CHECK(list[2].report_id == id(3));
  CHECK(list[0].sequence < list[1].sequence);
  CHECK(list[0].name == "0000000000000001-" + id(1) + ".json.gz");
  CHECK(keyward::agent::gzip_decompress(spool.read_compressed(list[1])) == R"({"n":2})");

  spool.remove(list[0]);
  list = spool.list();
  REQUIRE(list.size() == 2);
  CHECK(list[0].report_id == id(2));

  // A restarted agent continues the sequence after what is there.
  Spool again(t.path("spool"), 1 << 20);
  const auto added = again.add(id(4), "{}");
  CHECK(added.entry.sequence == 4);
  CHECK(again.list().back().report_id == id(4));
}

TEST_CASE("spool files and directories are private to the agent") {
  keyward::test::TempTree t;
  Spool spool(t.path("spool"), 1 << 20);
  const auto added = spool.add(id(1), "{}");
  struct stat st {};
  REQUIRE(::stat(added.entry.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(t.path("spool").c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
}

TEST_CASE("past the size cap the oldest reports are dropped and counted and the newest is kept") {
  keyward::test::TempTree t;
  const std::uint64_t cap = 10000;
  Spool spool(t.path("spool"), cap);
  std::uint64_t dropped = 0;
  for (int i = 1; i <= 6; ++i) dropped += spool.add(id(i), noise(3000, static_cast<unsigned>(i))).dropped;
  const auto list = spool.list();
  CHECK(dropped > 0);
  CHECK(dropped + list.size() == 6);
  CHECK(spool.bytes() <= cap);
  REQUIRE(!list.empty());
  CHECK(list.back().report_id == id(6));
  // What is left is the newest run of reports.
  for (std::size_t i = 0; i < list.size(); ++i)
    CHECK(list[i].report_id == id(static_cast<int>(6 - list.size() + 1 + i)));

  // One report larger than the cap is still kept (it is the newest snapshot).
  const auto big = spool.add(id(7), noise(20000, 7));
  CHECK(big.dropped == list.size());
  REQUIRE(spool.list().size() == 1);
  CHECK(spool.list().front().report_id == id(7));
}

TEST_CASE("a refused report moves to rejected and is no longer offered") {
  keyward::test::TempTree t;
  Spool spool(t.path("spool"), 1 << 20, 2);
  spool.add(id(1), "{}");
  spool.add(id(2), "{}");
  spool.reject(spool.list().front());
  REQUIRE(spool.list().size() == 1);
  CHECK(spool.list().front().report_id == id(2));
  REQUIRE(spool.rejected().size() == 1);
  CHECK(spool.rejected().front().report_id == id(1));
  // rejected/ keeps only the newest few.
  spool.add(id(3), "{}");
  spool.add(id(4), "{}");
  while (!spool.list().empty()) spool.reject(spool.list().front());
  const auto rej = spool.rejected();
  REQUIRE(rej.size() == 2);
  CHECK(rej[0].report_id == id(3));
  CHECK(rej[1].report_id == id(4));
  // Sequence numbers never go back below what rejected/ holds.
  CHECK(spool.add(id(5), "{}").entry.sequence == 5);
}

TEST_CASE("a half-written temporary file from a killed agent is ignored and cleaned on start") {
  keyward::test::TempTree t;
  {
    Spool spool(t.path("spool"), 1 << 20);
    spool.add(id(1), "{}");
  }
  const std::string leftover = t.write("spool/0000000000000002-" + id(2) + ".json.gz.tmp", "\x1f\x8b half");
  t.write("spool/notes.txt", "not a report");
  Spool spool(t.path("spool"), 1 << 20);
  struct stat st {};
  CHECK(::stat(leftover.c_str(), &st) != 0);
  const auto list = spool.list();
  REQUIRE(list.size() == 1);
  CHECK(list[0].report_id == id(1));
}

TEST_CASE("spool file names are parsed strictly") {
  std::uint64_t seq = 0;
  std::string rid;
  CHECK(Spool::parse_name("0000000000000042-" + id(1) + ".json.gz", seq, rid));
  CHECK(seq == 42);
  CHECK(rid == id(1));
  CHECK_FALSE(Spool::parse_name("42-" + id(1) + ".json.gz", seq, rid));
  CHECK_FALSE(Spool::parse_name("0000000000000042-" + id(1) + ".json", seq, rid));
  CHECK_FALSE(Spool::parse_name("0000000000000042-0123456789ABCDEF0123456789abcdef.json.gz", seq, rid));
}

TEST_CASE("gzip round trips and refuses corrupt data") {
  const std::string text = noise(100000, 3) + std::string(100000, 'a');
  const std::string gz = keyward::agent::gzip_compress(text);
  CHECK(gz.size() < text.size());
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(keyward::agent::gzip_decompress(gz) == text);
  CHECK_THROWS(keyward::agent::gzip_decompress(gz.substr(0, gz.size() / 2)));
  CHECK_THROWS(keyward::agent::gzip_decompress("not gzip at all"));
  CHECK_THROWS(keyward::agent::gzip_decompress(gz, 1000));
}

TEST_CASE("a gzip member made piece by piece decompresses to the pieces in order") {
  keyward::agent::GzipStream stream;
  std::string whole;
  for (unsigned i = 0; i < 200; ++i) {
    const std::string part = noise(1000 + i * 37, i);
    stream.write(part);
    whole += part;
  }
  stream.write("");
  const std::string gz = stream.finish();
  CHECK(gz.size() < whole.size());
  CHECK(keyward::agent::gzip_decompress(gz) == whole);
  CHECK(keyward::agent::gzip_decompress(keyward::agent::GzipStream().finish()).empty());
}
