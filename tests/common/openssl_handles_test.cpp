// SPDX-License-Identifier: Apache-2.0
// keyward::common OpenSSL handles and errors: the deleter frees what it owns (a leak would be
// reported by LeakSanitizer in the sanitizer build) and is never called on null; the error queue
// is drained into one line.
#include <doctest/doctest.h>

#include <keyward/common/openssl_errors.hpp>
#include <keyward/common/openssl_handles.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>

using namespace keyward::common;

namespace {

int g_freed = 0;
void counting_free(int* p) noexcept {
  ++g_freed;
  delete p;
}

}  // namespace

TEST_CASE("an owned handle calls its free function once, and never for null") {
  g_freed = 0;
  { Owned<int, counting_free> p(new int(7)); }
  CHECK(g_freed == 1);
  { Owned<int, counting_free> empty; }
  CHECK(g_freed == 1);
  Owned<int, counting_free> moved(new int(1));
  Owned<int, counting_free> to(std::move(moved));
  to.reset();
  CHECK(g_freed == 2);
}

TEST_CASE("the OpenSSL aliases own real objects") {
  BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(bio);
  CHECK(BIO_write(bio.get(), "abc", 3) == 3);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  REQUIRE(ctx);
  REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_keygen(ctx.get(), &raw) == 1);
  PkeyPtr key(raw);
  CHECK(EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_ED25519);
  Pkcs7StackPtr stack(sk_PKCS7_new_null());
  REQUIRE(stack);
  REQUIRE(sk_PKCS7_push(stack.get(), PKCS7_new()) == 1);  // freed with the stack
  CHECK(sk_PKCS7_num(stack.get()) == 1);
}

TEST_CASE("the OpenSSL error queue is drained into one line, and is empty afterwards") {
  ERR_clear_error();
  CHECK(keyward::common::drain_openssl_errors().empty());
  BioPtr bio(BIO_new_mem_buf("not a certificate", -1));
  REQUIRE(bio);
  CHECK(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) == nullptr);
  const std::string line = keyward::common::drain_openssl_errors();
  CHECK(line.find("error:") == 0);
  CHECK(line.find("not a certificate") == std::string::npos);  // reasons, never the input
  CHECK(ERR_peek_error() == 0);
}
