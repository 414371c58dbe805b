// SPDX-License-Identifier: Apache-2.0
#include "trust_chain.hpp"

#include <keyward/common/openssl_handles.hpp>
#include <keyward/rules/rule_error.hpp>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace keyward::rules::detail {
namespace {

void free_x509_stack(STACK_OF(X509) * s) { sk_X509_free(s); }  // the certificates are owned elsewhere

using StorePtr = common::Owned<X509_STORE, X509_STORE_free>;
using StoreCtxPtr = common::Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509StackPtr = common::Owned<STACK_OF(X509), free_x509_stack>;

common::X509Ptr parse(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return common::X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

StorePtr load_store(const std::string& trust_file) {
  StorePtr store(X509_STORE_new());
  if (!store) throw std::bad_alloc();
  if (trust_file.empty()) {
    (void)X509_STORE_set_default_paths(store.get());  // no system store: nothing is trusted
  } else if (X509_STORE_load_file(store.get(), trust_file.c_str()) != 1) {
    ERR_clear_error();
    throw RuleError(trust_file, 0, "cannot-read", "cannot load the trust store (PEM certificates)");
  }
  ERR_clear_error();
  return store;
}

}  // namespace

std::vector<bool> chains_to_trusted_root(const std::vector<const std::string*>& leaves,
                                         const std::vector<const std::string*>& intermediates,
                                         const std::string& trust_file) {
  std::vector<bool> out(leaves.size(), false);
  const StorePtr store = load_store(trust_file);
  std::vector<common::X509Ptr> owned;
  X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) throw std::bad_alloc();
  for (const std::string* der : intermediates)
    if (auto x = parse(*der); x && sk_X509_push(untrusted.get(), x.get()) > 0) owned.push_back(std::move(x));
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const common::X509Ptr leaf = parse(*leaves[i]);
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!leaf || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) continue;
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
    out[i] = X509_verify_cert(ctx.get()) == 1;
  }
  ERR_clear_error();
  return out;
}

}  // namespace keyward::rules::detail
