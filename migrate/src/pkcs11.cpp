// SPDX-License-Identifier: Apache-2.0
#include "pkcs11.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <utility>

namespace keyward::migrate::p11 {
namespace {

#define N(x) \
  std::pair<ck_rv_t, std::string_view> { x, #x }
constexpr std::array kCkrNames{N(CKR_OK),
                               N(CKR_CANCEL),
                               N(CKR_HOST_MEMORY),
                               N(CKR_SLOT_ID_INVALID),
                               N(CKR_GENERAL_ERROR),
                               N(CKR_FUNCTION_FAILED),
                               N(CKR_ARGUMENTS_BAD),
                               N(CKR_NO_EVENT),
                               N(CKR_NEED_TO_CREATE_THREADS),
                               N(CKR_CANT_LOCK),
                               N(CKR_ATTRIBUTE_READ_ONLY),
                               N(CKR_ATTRIBUTE_SENSITIVE),
                               N(CKR_ATTRIBUTE_TYPE_INVALID),
                               N(CKR_ATTRIBUTE_VALUE_INVALID),
                               N(CKR_ACTION_PROHIBITED),
                               N(CKR_DATA_INVALID),
                               N(CKR_DATA_LEN_RANGE),
                               N(CKR_DEVICE_ERROR),
                               N(CKR_DEVICE_MEMORY),
                               N(CKR_DEVICE_REMOVED),
                               N(CKR_ENCRYPTED_DATA_INVALID),
                               N(CKR_ENCRYPTED_DATA_LEN_RANGE),
                               N(CKR_FUNCTION_CANCELED),
                               N(CKR_FUNCTION_NOT_PARALLEL),
                               N(CKR_FUNCTION_NOT_SUPPORTED),
                               N(CKR_KEY_HANDLE_INVALID),
                               N(CKR_KEY_SIZE_RANGE),
                               N(CKR_KEY_TYPE_INCONSISTENT),
                               N(CKR_KEY_NOT_NEEDED),
                               N(CKR_KEY_CHANGED),
                               N(CKR_KEY_NEEDED),
                               N(CKR_KEY_INDIGESTIBLE),
                               N(CKR_KEY_FUNCTION_NOT_PERMITTED),
                               N(CKR_KEY_NOT_WRAPPABLE),
                               N(CKR_KEY_UNEXTRACTABLE),
                               N(CKR_MECHANISM_INVALID),
                               N(CKR_MECHANISM_PARAM_INVALID),
                               N(CKR_OBJECT_HANDLE_INVALID),
                               N(CKR_OPERATION_ACTIVE),
                               N(CKR_OPERATION_NOT_INITIALIZED),
                               N(CKR_PIN_INCORRECT),
                               N(CKR_PIN_INVALID),
                               N(CKR_PIN_LEN_RANGE),
                               N(CKR_PIN_EXPIRED),
                               N(CKR_PIN_LOCKED),
                               N(CKR_SESSION_CLOSED),
                               N(CKR_SESSION_COUNT),
                               N(CKR_SESSION_HANDLE_INVALID),
                               N(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
                               N(CKR_SESSION_READ_ONLY),
                               N(CKR_SESSION_EXISTS),
                               N(CKR_SESSION_READ_ONLY_EXISTS),
                               N(CKR_SESSION_READ_WRITE_SO_EXISTS),
                               N(CKR_SIGNATURE_INVALID),
                               N(CKR_SIGNATURE_LEN_RANGE),
                               N(CKR_TEMPLATE_INCOMPLETE),
                               N(CKR_TEMPLATE_INCONSISTENT),
                               N(CKR_TOKEN_NOT_PRESENT),
                               N(CKR_TOKEN_NOT_RECOGNIZED),
                               N(CKR_TOKEN_WRITE_PROTECTED),
                               N(CKR_UNWRAPPING_KEY_SIZE_RANGE),
                               N(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
                               N(CKR_USER_ALREADY_LOGGED_IN),
                               N(CKR_USER_NOT_LOGGED_IN),
                               N(CKR_USER_PIN_NOT_INITIALIZED),
                               N(CKR_USER_TYPE_INVALID),
                               N(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
                               N(CKR_USER_TOO_MANY_TYPES),
                               N(CKR_WRAPPED_KEY_INVALID),
                               N(CKR_WRAPPED_KEY_LEN_RANGE),
                               N(CKR_WRAPPING_KEY_HANDLE_INVALID),
                               N(CKR_WRAPPING_KEY_SIZE_RANGE),
                               N(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
                               N(CKR_RANDOM_SEED_NOT_SUPPORTED),
                               N(CKR_RANDOM_NO_RNG),
                               N(CKR_DOMAIN_PARAMS_INVALID),
                               N(CKR_CURVE_NOT_SUPPORTED),
                               N(CKR_BUFFER_TOO_SMALL),
                               N(CKR_SAVED_STATE_INVALID),
                               N(CKR_INFORMATION_SENSITIVE),
                               N(CKR_STATE_UNSAVEABLE),
                               N(CKR_CRYPTOKI_NOT_INITIALIZED),
                               N(CKR_CRYPTOKI_ALREADY_INITIALIZED),
                               N(CKR_MUTEX_BAD),
                               N(CKR_MUTEX_NOT_LOCKED),
                               N(CKR_NEW_PIN_MODE),
                               N(CKR_NEXT_OTP),
                               N(CKR_EXCEEDED_MAX_ITERATIONS),
                               N(CKR_FIPS_SELF_TEST_FAILED),
                               N(CKR_LIBRARY_LOAD_FAILED),
                               N(CKR_PIN_TOO_WEAK),
                               N(CKR_PUBLIC_KEY_INVALID),
                               N(CKR_FUNCTION_REJECTED)};
#undef N

constexpr unsigned char kTrue = 1, kFalse = 0;

void check(std::string_view call, ck_rv_t rv) {
  if (rv != CKR_OK) throw Error(call, rv);
}

}  // namespace

std::string ckr_name(ck_rv_t rv) {
  for (const auto& [code, name] : kCkrNames)
    if (code == rv) return std::string(name);
  return fmt::format("CKR_0x{:x}", rv);
}

Error::Error(std::string_view call, ck_rv_t rv)
    : std::runtime_error(fmt::format("{} failed: {}", call, ckr_name(rv))), rv_(rv) {}

ck_attribute attr(ck_attribute_type_t type, const void* data, std::size_t size) {
  return ck_attribute{type, const_cast<void*>(data), static_cast<unsigned long>(size)};
}
ck_attribute attr_bool(ck_attribute_type_t type, bool v) { return attr(type, v ? &kTrue : &kFalse, 1); }
ck_attribute attr_ulong(ck_attribute_type_t type, const unsigned long& v) { return attr(type, &v, sizeof v); }

Module::Module(const std::string& path) {
  // RTLD_NODELETE: a module may keep threads or atexit handlers past C_Finalize, so it is never
  // unmapped (and its frames stay named in sanitizer reports).
  lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (lib_ == nullptr) throw std::runtime_error(fmt::format("cannot load PKCS#11 module {}: {}", path, dlerror()));
  auto get = reinterpret_cast<ck_rv_t (*)(ck_function_list**)>(dlsym(lib_, "C_GetFunctionList"));
  ck_rv_t rv = get != nullptr ? get(&fn_) : CKR_FUNCTION_NOT_SUPPORTED;
  if (rv != CKR_OK || fn_ == nullptr) {
    dlclose(lib_);
    throw std::runtime_error(fmt::format("{} is not a PKCS#11 module (C_GetFunctionList: {})", path, ckr_name(rv)));
  }
  ck_c_initialize_args args{};
  args.flags = CKF_OS_LOCKING_OK;
  rv = fn_->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    dlclose(lib_);
    throw std::runtime_error(fmt::format("cannot initialize PKCS#11 module {}: {}", path, ckr_name(rv)));
  }
  finalize_ = rv == CKR_OK;
}

Module::~Module() {
  if (finalize_) fn_->C_Finalize(nullptr);
  dlclose(lib_);
}

ck_slot_id_t Module::slot_of(std::string_view label) const {
  unsigned long n = 0;
  check("C_GetSlotList", fn_->C_GetSlotList(1, nullptr, &n));
  std::vector<ck_slot_id_t> slots(n);
  check("C_GetSlotList", fn_->C_GetSlotList(1, slots.data(), &n));
  slots.resize(n);
  for (ck_slot_id_t slot : slots) {
    ck_token_info info{};
    if (fn_->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    std::string_view l(reinterpret_cast<const char*>(info.label), sizeof info.label);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\0')) l.remove_suffix(1);
    if (l == label) return slot;
  }
  throw std::runtime_error(fmt::format("no token labelled '{}' in the PKCS#11 module", label));
}

Session::Session(const Module& module, std::string_view token_label, const common::SecretBytes& pin)
    : fn_(module.fn()) {
  const ck_slot_id_t slot = module.slot_of(token_label);
  check("C_OpenSession", fn_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h_));
  const ck_rv_t rv =
      fn_->C_Login(h_, CKU_USER, const_cast<unsigned char*>(pin.data()), static_cast<unsigned long>(pin.size()));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    fn_->C_CloseSession(h_);
    throw std::runtime_error(fmt::format("login to token '{}' failed: {}", token_label, ckr_name(rv)));
  }
  logged_in_ = rv == CKR_OK;
}

Session::~Session() {
  if (logged_in_) fn_->C_Logout(h_);
  fn_->C_CloseSession(h_);
}

ck_object_handle_t Session::create(std::vector<ck_attribute> templ) {
  ck_object_handle_t h = 0;
  check("C_CreateObject", fn_->C_CreateObject(h_, templ.data(), templ.size(), &h));
  return h;
}

void Session::destroy(ck_object_handle_t h) noexcept { fn_->C_DestroyObject(h_, h); }

std::vector<ck_object_handle_t> Session::find(std::vector<ck_attribute> templ) {
  check("C_FindObjectsInit", fn_->C_FindObjectsInit(h_, templ.data(), templ.size()));
  std::vector<ck_object_handle_t> out;
  std::array<ck_object_handle_t, 32> batch{};
  for (;;) {
    unsigned long n = 0;
    const ck_rv_t rv = fn_->C_FindObjects(h_, batch.data(), batch.size(), &n);
    if (rv != CKR_OK) {
      fn_->C_FindObjectsFinal(h_);
      throw Error("C_FindObjects", rv);
    }
    out.insert(out.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
    if (n < batch.size()) break;
  }
  check("C_FindObjectsFinal", fn_->C_FindObjectsFinal(h_));
  return out;
}

ck_rv_t Session::try_get(ck_object_handle_t h, ck_attribute_type_t type) {
  ck_attribute a{type, nullptr, 0};
  return fn_->C_GetAttributeValue(h_, h, &a, 1);
}

std::vector<std::uint8_t> Session::get(ck_object_handle_t h, ck_attribute_type_t type) {
  ck_attribute a{type, nullptr, 0};
  check("C_GetAttributeValue", fn_->C_GetAttributeValue(h_, h, &a, 1));
  std::vector<std::uint8_t> out(a.value_len);
  a.value = out.data();
  check("C_GetAttributeValue", fn_->C_GetAttributeValue(h_, h, &a, 1));
  out.resize(a.value_len);
  return out;
}

bool Session::get_bool(ck_object_handle_t h, ck_attribute_type_t type) {
  const auto v = get(h, type);
  return !v.empty() && v[0] != 0;
}

void Session::set(ck_object_handle_t h, std::vector<ck_attribute> templ) {
  check("C_SetAttributeValue", fn_->C_SetAttributeValue(h_, h, templ.data(), templ.size()));
}

std::vector<std::uint8_t> Session::sign(ck_mechanism_type_t mech, ck_object_handle_t key,
                                        std::span<const std::uint8_t> data) {
  ck_mechanism m{mech, nullptr, 0};
  check("C_SignInit", fn_->C_SignInit(h_, &m, key));
  unsigned long n = 0;
  auto* in = const_cast<unsigned char*>(data.data());
  ck_rv_t rv = fn_->C_Sign(h_, in, data.size(), nullptr, &n);
  if (rv != CKR_OK) throw Error("C_Sign", rv);  // a failed C_Sign ends the operation
  std::vector<std::uint8_t> sig(n);
  check("C_Sign", fn_->C_Sign(h_, in, data.size(), sig.data(), &n));
  sig.resize(n);
  return sig;
}

Session::KeyPair Session::generate(ck_mechanism_type_t mech, std::vector<ck_attribute> pub,
                                   std::vector<ck_attribute> priv) {
  ck_mechanism m{mech, nullptr, 0};
  KeyPair kp;
  check("C_GenerateKeyPair",
        fn_->C_GenerateKeyPair(h_, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub, &kp.priv));
  return kp;
}

void CreatedObjects::rollback() noexcept {
  for (auto it = handles_.rbegin(); it != handles_.rend(); ++it) s_.destroy(*it);
  handles_.clear();
}

}  // namespace keyward::migrate::p11
