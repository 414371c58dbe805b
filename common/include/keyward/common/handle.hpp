// SPDX-License-Identifier: Apache-2.0
// Owned C handles: one unique_ptr deleter template for every C library we call (OpenSSL,
// libgit2, ...). Used by: openssl_handles.hpp, keyward::ci's libgit2 handles.
// Never calls the free function on null (unique_ptr does not call a deleter on null).
#pragma once

#include <memory>

namespace keyward::common {

// Calls Fn on the handle.
template <auto Fn>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

// A handle freed with Fn.
template <class T, auto Fn>
using Owned = std::unique_ptr<T, Deleter<Fn>>;

}  // namespace keyward::common
