// SPDX-License-Identifier: Apache-2.0
// The PKCS#11 layer of the executor (docs/migration.md, "What runs where"): a module dlopen'ed
// (C_GetFunctionList, C_Initialize/C_Finalize), a logged-in read-write session on the token found
// by its label, and the object calls the executor needs. Errors carry the CKR_ name of what the
// module returned. pkcs11.h comes from p11-kit in its GNU form (no compatibility macros that
// would rename `value` or `count` in every file that includes it); only executor sources include
// this header.
// Never logs or copies the PIN: login takes the caller's SecretBytes and passes its bytes on.
#pragma once

#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include <keyward/common/secret.hpp>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::migrate::p11 {

// "CKR_PIN_INCORRECT" for 0xa0, "CKR_0x..." for a code it does not know.
std::string ckr_name(ck_rv_t rv);

// A module call that failed: what was called, and the CKR_ name.
class Error : public std::runtime_error {
 public:
  Error(std::string_view call, ck_rv_t rv);
  ck_rv_t rv() const noexcept { return rv_; }

 private:
  ck_rv_t rv_;
};

// One attribute of a template; points at bytes the caller keeps alive for the call.
ck_attribute attr(ck_attribute_type_t type, const void* data, std::size_t size);
// A CK_BBOOL or CK_ULONG attribute (its value lives in static storage).
ck_attribute attr_bool(ck_attribute_type_t type, bool v);
ck_attribute attr_ulong(ck_attribute_type_t type, const unsigned long& v);

// A loaded and initialized module. Finalizes and unloads it on destruction (unless it was
// initialized by someone else in this process already).
class Module {
 public:
  explicit Module(const std::string& path);  // throws std::runtime_error naming the path
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  ck_function_list* fn() const noexcept { return fn_; }
  // The slot whose token has this label (labels are space-padded to 32 bytes); throws naming it.
  ck_slot_id_t slot_of(std::string_view label) const;

 private:
  void* lib_ = nullptr;
  ck_function_list* fn_ = nullptr;
  bool finalize_ = false;
};

// A read-write session, logged in as the user; logs out and closes on destruction.
class Session {
 public:
  Session(const Module& module, std::string_view token_label, const common::SecretBytes& pin);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ck_object_handle_t create(std::vector<ck_attribute> templ);
  void destroy(ck_object_handle_t h) noexcept;  // best effort (rollback)
  std::vector<ck_object_handle_t> find(std::vector<ck_attribute> templ);
  // The attribute's bytes; throws Error when the module refuses (e.g. CKR_ATTRIBUTE_SENSITIVE).
  std::vector<std::uint8_t> get(ck_object_handle_t h, ck_attribute_type_t type);
  // What the module answers when the attribute is read (CKR_OK, CKR_ATTRIBUTE_SENSITIVE, ...).
  ck_rv_t try_get(ck_object_handle_t h, ck_attribute_type_t type);
  bool get_bool(ck_object_handle_t h, ck_attribute_type_t type);
  void set(ck_object_handle_t h, std::vector<ck_attribute> templ);
  std::vector<std::uint8_t> sign(ck_mechanism_type_t mech, ck_object_handle_t key, std::span<const std::uint8_t> data);
  struct KeyPair {
    ck_object_handle_t pub = 0, priv = 0;
  };
  KeyPair generate(ck_mechanism_type_t mech, std::vector<ck_attribute> pub, std::vector<ck_attribute> priv);

 private:
  ck_function_list* fn_;
  ck_session_handle_t h_ = 0;
  bool logged_in_ = false;
};

// Objects an item created: destroyed in reverse order unless keep() is called (all or nothing).
class CreatedObjects {
 public:
  explicit CreatedObjects(Session& s) : s_(s) {}
  ~CreatedObjects() { rollback(); }
  CreatedObjects(const CreatedObjects&) = delete;
  CreatedObjects& operator=(const CreatedObjects&) = delete;
  void add(ck_object_handle_t h) { handles_.push_back(h); }
  void keep() noexcept { handles_.clear(); }
  void rollback() noexcept;
  std::size_t size() const noexcept { return handles_.size(); }

 private:
  Session& s_;
  std::vector<ck_object_handle_t> handles_;
};

}  // namespace keyward::migrate::p11
