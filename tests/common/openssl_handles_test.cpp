// keyward::common OpenSSL handles: the deleter frees what it owns (a freed BIO chain would be
// reported by LeakSanitizer in the sanitizer build) and is never called on null.
#include <doctest/doctest.h>

#include <keyward/common/openssl_handles.hpp>

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
