// SPDX-License-Identifier: Apache-2.0
// keyward::common::SecretBytes and SecretList: every byte a secret held is zero by the time its
// storage goes back to the heap (seen through a memory resource that looks at what it is handed),
// on destruction, growth and assignment; a moved-from secret is empty; copies of a list share it.
#include <doctest/doctest.h>

#include "support/watching_resource.hpp"

#include <keyward/common/base64.hpp>
#include <keyward/common/secret.hpp>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

using namespace keyward::common;

using keyward::test::WatchingResource;

namespace {

constexpr std::string_view kPassword = "correct horse battery staple";

}  // namespace

static_assert(!std::is_copy_constructible_v<SecretBytes> && !std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes> && std::is_nothrow_move_assignable_v<SecretBytes>);

TEST_CASE("a secret's storage is wiped before it goes back to the heap") {
  WatchingResource heap;
  {
    SecretBytes s = SecretBytes::copy_of(kPassword, &heap);
    CHECK(s.view() == kPassword);
    CHECK(heap.returned.empty());
  }
  REQUIRE(heap.returned.size() == 1);
  CHECK(heap.returned[0].bytes > kPassword.size());  // the whole storage, not only the bytes in use
  CHECK(heap.returned[0].zero);
}

TEST_CASE("a secret made without a resource takes std::pmr's default, so a test can watch one made deep inside") {
  WatchingResource heap;
  {
    const keyward::test::ScopedDefaultResource scope(&heap);
    const auto decoded = base64_decode_secret(base64_encode(kPassword));
    REQUIRE(decoded);
    CHECK(decoded->view() == kPassword);
  }
  CHECK(heap.allocations >= 1);
  CHECK(heap.all_wiped_with_one_of(kPassword.size()));
}

TEST_CASE("a secret that grows wipes the storage it leaves") {
  WatchingResource heap;
  SecretBytes s(&heap);
  s.append(kPassword);
  s.append(std::string(4096, 'k'));  // past the first allocation
  REQUIRE(heap.returned.size() == 1);
  CHECK(heap.returned[0].zero);
  CHECK(s.view().substr(0, kPassword.size()) == kPassword);
  CHECK(s.size() == kPassword.size() + 4096);
}

TEST_CASE("assigning over a secret wipes what it held and the moved-from secret is empty") {
  WatchingResource heap;
  SecretBytes a = SecretBytes::copy_of("old pin 1234", &heap);
  SecretBytes b = SecretBytes::copy_of(kPassword, &heap);
  const std::uint8_t* b_storage = b.data();
  a = std::move(b);
  REQUIRE(heap.returned.size() == 1);  // a's old storage, wiped; b's was handed over, not copied
  CHECK(heap.returned[0].zero);
  CHECK(a.view() == kPassword);
  CHECK(a.data() == b_storage);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  CHECK(b.data() == nullptr);
  CHECK(std::string(b.c_str()).empty());

  SecretBytes c(std::move(a));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(c.view() == kPassword);
  CHECK(heap.returned.size() == 1);
}

TEST_CASE("shrinking or clearing a secret wipes the bytes it no longer holds") {
  SecretBytes s = SecretBytes::copy_of(kPassword);
  const std::uint8_t* storage = s.data();
  s.resize(7);
  REQUIRE(s.data() == storage);  // the same storage: its tail can be looked at
  CHECK(s.view() == kPassword.substr(0, 7));
  CHECK(std::all_of(storage + 7, storage + kPassword.size(), [](std::uint8_t c) { return c == 0; }));
  s.clear();
  CHECK(s.empty());
  CHECK(std::all_of(storage, storage + kPassword.size(), [](std::uint8_t c) { return c == 0; }));
}

TEST_CASE("bytes a reader wrote into a secret's spare room are wiped, taken or not") {
  WatchingResource heap;
  {
    SecretBytes s(&heap);
    std::uint8_t* room = s.append_space(64);
    std::fill(room, room + 64, std::uint8_t{'k'});
    s.appended(10);  // the reader says it wrote 10; the other 54 bytes are still written
    CHECK(s.view() == std::string(10, 'k'));
    CHECK(std::string(s.c_str()) == std::string(10, 'k'));
    s.appended(0);
    CHECK(s.size() == 10);
  }
  REQUIRE(heap.returned.size() == 1);
  CHECK(heap.returned[0].zero);
}

TEST_CASE("a secret is NUL-terminated for C APIs and compares by its bytes") {
  SecretBytes s = SecretBytes::copy_of(kPassword);
  CHECK(std::string(s.c_str()) == kPassword);
  s.push_back('!');
  CHECK(std::string(s.c_str()) == std::string(kPassword) + "!");
  CHECK(SecretBytes(3) == SecretBytes::copy_of(std::string_view("\0\0\0", 3)));
  CHECK_FALSE(SecretBytes::copy_of("abc") == SecretBytes::copy_of("abd"));
  CHECK_FALSE(SecretBytes::copy_of("abc") == SecretBytes::copy_of("abcd"));
}

TEST_CASE("base64 decodes into a secret the same bytes it decodes into a vector") {
  const std::string text = base64_encode(std::string_view("-----key body-----\x01\x02"));
  const auto plain = base64_decode(text);
  const auto secret = base64_decode_secret(text);
  REQUIRE(plain);
  REQUIRE(secret);
  CHECK(std::equal(plain->begin(), plain->end(), secret->bytes().begin(), secret->bytes().end()));
  CHECK_FALSE(base64_decode_secret("Zm9v!"));
  CHECK(base64url_decode_secret("-_8")->size() == 2);
}

TEST_CASE("copies of a secret list share one list") {
  const SecretList list{"changeit", "password"};
  const SecretList copy = list;  // NOLINT(performance-unnecessary-copy-initialization)
  REQUIRE(copy.size() == 2);
  CHECK(copy.items()[0].view() == "changeit");
  CHECK(copy.items()[1].data() == list.items()[1].data());
  CHECK(SecretList().empty());
}
