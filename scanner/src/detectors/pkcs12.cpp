// SPDX-License-Identifier: Apache-2.0
// PKCS#12 / PFX (RFC 7292): what a store shows without its password (MAC, bag types, PBE
// algorithms, plain certificates and key bags), then, opened with a candidate password, the facts
// of every key and certificate it holds. Decryption runs in a private OpenSSL library context with
// the "legacy" provider (RC2-40 and RC4 of `openssl pkcs12 -legacy` and most older writers), so
// the process-wide default context is never changed.
#include "detectors/binary.hpp"
#include "detectors/der.hpp"
#include "detectors/parsers.hpp"
#include "openssl/cert_info.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keyward::scanner::detail {
namespace {

// A KDF or MAC with more iterations than this is not run at all: one try would stall a worker
// (the PKCS#12 KDF costs about a microsecond per iteration).
constexpr long kMaxIterations = 1'000'000;
// Iteration counts below OpenSSL's own default (PKCS12_DEFAULT_ITER, 2048) are graded weak.
constexpr std::uint64_t kWeakIterations = 2048;
// Bounds on what one store may make us do: nested SafeContents depth and bags visited.
constexpr int kMaxDepth = 8;
constexpr std::size_t kMaxBags = 4096;
// KDF iterations one opened store may spend decrypting its keys and safes, all together.
constexpr std::uint64_t kWalkIterations = 8'000'000;

// One library context with the "default" and "legacy" providers, created on first use and kept
// for the process. nullptr (OpenSSL's default context) when it cannot be made; a missing legacy
// module leaves RC2/RC4 stores unreadable and everything else working.
OSSL_LIB_CTX* legacy_libctx() {
  static OSSL_LIB_CTX* const ctx = []() -> OSSL_LIB_CTX* {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c == nullptr) return nullptr;
    if (OSSL_PROVIDER_load(c, "default") == nullptr) {
      OSSL_LIB_CTX_free(c);
      clear_errors();
      return nullptr;
    }
    (void)OSSL_PROVIDER_load(c, "legacy");
    clear_errors();
    return c;
  }();
  return ctx;
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

void add_protection(std::vector<Protection>& v, Protection p) {
  const bool seen = std::any_of(v.begin(), v.end(), [&](const Protection& q) {
    return q.cipher == p.cipher && q.kdf == p.kdf && q.kdf_iterations == p.kdf_iterations;
  });
  if (!seen) v.push_back(std::move(p));
}

// A password as OpenSSL's PKCS#12 functions take it. The empty password has two encodings
// (an empty BMPString, or none at all): both are tried, as PKCS12_parse does.
struct Pass {
  const char* data = nullptr;
  int len = 0;
};

std::vector<Pass> encodings(std::string_view password) {
  if (password.empty()) return {Pass{"", 0}, Pass{nullptr, 0}};
  return {Pass{password.data(), static_cast<int>(password.size())}};
}

struct KeyItem {
  std::string alias;
  std::string local_key_id;
  KeyFacts key;
};

struct CertItem {
  X509Ptr cert;
  CertFacts facts;
  std::string alias;
  std::string local_key_id;
};

// What one walk over the store's bags saw.
struct Walk {
  std::optional<Pass> pass;  // set: decrypt shrouded keys and encrypted safes with it
  bool visible_only = true;  // the first walk, without a password: records the contents
  std::vector<KeyItem> keys;
  std::vector<CertItem> certs;
  std::vector<std::string> contents;
  std::vector<Protection> encryption;
  bool plain_key_bag = false;  // a keyBag outside any encryption
  std::size_t bags = 0;
  std::uint64_t budget = kWalkIterations;  // KDF iterations left for decryption

  // Takes the cost of decrypting with `alg` from the budget; false when it does not fit.
  bool afford(const X509_ALGOR* alg) {
    const Protection p = pkcs8_protection(alg);
    const std::uint64_t cost = std::max<std::uint64_t>(1, p.kdf_iterations.value_or(1));
    if (cost > static_cast<std::uint64_t>(kMaxIterations) || cost > budget) return false;
    budget -= cost;
    return true;
  }
};

std::string alias_of(const PKCS12_SAFEBAG* bag) {
  common::OpenSslStringPtr name(PKCS12_get_friendlyname(const_cast<PKCS12_SAFEBAG*>(bag)));
  return name ? clean_comment(name.get()) : std::string();
}

std::string local_key_id_of(const PKCS12_SAFEBAG* bag) {
  const ASN1_TYPE* t = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
  if (t == nullptr || t->type != V_ASN1_OCTET_STRING || t->value.octet_string == nullptr) return {};
  const ASN1_OCTET_STRING* o = t->value.octet_string;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(o)),
                     static_cast<std::size_t>(ASN1_STRING_length(o)));
}

void key_facts_from_p8(const PKCS8_PRIV_KEY_INFO* p8, KeyFacts& key) {
  PkeyPtr pkey(EVP_PKCS82PKEY_ex(p8, legacy_libctx(), nullptr));
  if (pkey) fill_key_facts(pkey.get(), key);
}

void walk_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, Walk& w, int depth, bool in_encrypted_safe);

void visit_bag(const PKCS12_SAFEBAG* bag, Walk& w, int depth, bool in_encrypted_safe) {
  if (++w.bags > kMaxBags) return;
  switch (PKCS12_SAFEBAG_get_nid(bag)) {
    case NID_keyBag: {
      if (w.visible_only) add_unique(w.contents, "key");
      if (!in_encrypted_safe) w.plain_key_bag = true;
      KeyItem k{alias_of(bag), local_key_id_of(bag), {}};
      if (const PKCS8_PRIV_KEY_INFO* p8 = PKCS12_SAFEBAG_get0_p8inf(bag)) key_facts_from_p8(p8, k.key);
      w.keys.push_back(std::move(k));
      break;
    }
    case NID_pkcs8ShroudedKeyBag: {
      if (w.visible_only) add_unique(w.contents, "shrouded-key");
      KeyItem k{alias_of(bag), local_key_id_of(bag), {}};
      k.key.encrypted = true;
      const X509_ALGOR* alg = nullptr;
      if (const X509_SIG* sig = PKCS12_SAFEBAG_get0_pkcs8(bag)) {
        X509_SIG_get0(sig, &alg, nullptr);
        k.key.protection = pkcs8_protection(alg);
        add_protection(w.encryption, *k.key.protection);
      }
      if (w.pass && alg != nullptr && w.afford(alg)) {
        P8InfoPtr p8(PKCS12_decrypt_skey_ex(bag, w.pass->data, w.pass->len, legacy_libctx(), nullptr));
        if (p8) key_facts_from_p8(p8.get(), k.key);
      }
      w.keys.push_back(std::move(k));
      break;
    }
    case NID_certBag: {
      if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) {
        if (w.visible_only) add_unique(w.contents, "sdsi-certificate");
        break;
      }
      if (w.visible_only) add_unique(w.contents, "certificate");
      X509Ptr cert(PKCS12_SAFEBAG_get1_cert(bag));
      if (!cert) break;
      CertItem c;
      c.facts = cert_facts(cert.get());
      c.cert = std::move(cert);
      c.alias = alias_of(bag);
      c.local_key_id = local_key_id_of(bag);
      w.certs.push_back(std::move(c));
      break;
    }
    case NID_crlBag:
      if (w.visible_only) add_unique(w.contents, "crl");
      break;
    case NID_secretBag:
      if (w.visible_only) add_unique(w.contents, "secret");
      break;
    case NID_safeContentsBag:
      if (w.visible_only) add_unique(w.contents, "safe-contents");
      if (depth < kMaxDepth) walk_bags(PKCS12_SAFEBAG_get0_safes(bag), w, depth + 1, in_encrypted_safe);
      break;
    default:
      if (w.visible_only) add_unique(w.contents, "unknown-bag");
  }
}

void walk_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, Walk& w, int depth, bool in_encrypted_safe) {
  for (int i = 0; bags != nullptr && i < sk_PKCS12_SAFEBAG_num(bags); ++i)
    visit_bag(sk_PKCS12_SAFEBAG_value(bags, i), w, depth, in_encrypted_safe);
}

// The PBE algorithm and ciphertext of an EncryptedData ContentInfo; nullptr fields if malformed.
struct EncryptedSafe {
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
};

EncryptedSafe encrypted_safe(const PKCS7* p7) {
  EncryptedSafe e;
  if (p7->d.encrypted == nullptr || p7->d.encrypted->enc_data == nullptr) return e;
  e.alg = p7->d.encrypted->enc_data->algorithm;
  e.data = p7->d.encrypted->enc_data->enc_data;
  return e;
}

SafeBagStackPtr decrypt_safe(const EncryptedSafe& e, const Pass& pass) {
  if (e.alg == nullptr || e.data == nullptr) return nullptr;
  clear_errors();
  return SafeBagStackPtr(static_cast<STACK_OF(PKCS12_SAFEBAG)*>(PKCS12_item_decrypt_d2i_ex(
      e.alg, ASN1_ITEM_rptr(PKCS12_SAFEBAGS), pass.data, pass.len, e.data, 1, legacy_libctx(), nullptr)));
}

// One pass over the AuthenticatedSafe: plain data safes are always read; encrypted ones only
// with a password.
void walk_store(const STACK_OF(PKCS7) * safes, Walk& w) {
  for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    switch (OBJ_obj2nid(p7->type)) {
      case NID_pkcs7_data: {
        SafeBagStackPtr bags(PKCS12_unpack_p7data(p7));
        if (!bags && w.visible_only) add_unique(w.contents, "unreadable-contents");
        walk_bags(bags.get(), w, 0, false);
        break;
      }
      case NID_pkcs7_encrypted: {
        const EncryptedSafe e = encrypted_safe(p7);
        if (w.visible_only) {
          add_unique(w.contents, "encrypted-contents");
          if (e.alg != nullptr) add_protection(w.encryption, pkcs8_protection(e.alg));
        }
        if (w.pass && e.alg != nullptr && w.afford(e.alg)) {
          SafeBagStackPtr bags = decrypt_safe(e, *w.pass);
          walk_bags(bags.get(), w, 0, true);
        }
        break;
      }
      case NID_pkcs7_enveloped:
        if (w.visible_only) add_unique(w.contents, "enveloped-contents");
        break;
      default:
        if (w.visible_only) add_unique(w.contents, "unknown-contents");
    }
  }
}

// The iterations of the PBE in `alg` are within what we are willing to run.
bool affordable(const X509_ALGOR* alg) {
  const Protection p = pkcs8_protection(alg);
  return !p.kdf_iterations || *p.kdf_iterations <= static_cast<std::uint64_t>(kMaxIterations);
}

// Tries one password: the MAC when there is one, else decrypting the first protected object.
std::optional<Pass> try_password(PKCS12* p12, bool has_mac, const STACK_OF(PKCS7) * safes, std::string_view password) {
  for (const Pass& pass : encodings(password)) {
    clear_errors();
    if (has_mac) {
      if (PKCS12_verify_mac(p12, pass.data, pass.len) == 1) return pass;
      continue;
    }
    for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
      PKCS7* p7 = sk_PKCS7_value(safes, i);
      const int nid = OBJ_obj2nid(p7->type);
      if (nid == NID_pkcs7_encrypted) {
        const EncryptedSafe e = encrypted_safe(p7);
        if (e.alg == nullptr || !affordable(e.alg)) continue;
        if (decrypt_safe(e, pass)) return pass;
        break;  // the first affordable protected object decides
      }
      if (nid != NID_pkcs7_data) continue;
      SafeBagStackPtr bags(PKCS12_unpack_p7data(p7));
      bool tried = false;
      for (int j = 0; bags && j < sk_PKCS12_SAFEBAG_num(bags.get()); ++j) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags.get(), j);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag) continue;
        const X509_ALGOR* alg = nullptr;
        if (const X509_SIG* sig = PKCS12_SAFEBAG_get0_pkcs8(bag)) X509_SIG_get0(sig, &alg, nullptr);
        if (alg == nullptr || !affordable(alg)) continue;
        if (P8InfoPtr(PKCS12_decrypt_skey_ex(bag, pass.data, pass.len, legacy_libctx(), nullptr))) return pass;
        tried = true;
        break;
      }
      if (tried) break;
    }
  }
  clear_errors();
  return std::nullopt;
}

// True when nothing in the store needs a password to be read (no MAC, no encryption).
bool nothing_protected(bool has_mac, const Walk& visible) {
  if (has_mac) return false;
  if (std::find(visible.contents.begin(), visible.contents.end(), "encrypted-contents") != visible.contents.end())
    return false;
  if (std::find(visible.contents.begin(), visible.contents.end(), "enveloped-contents") != visible.contents.end())
    return false;
  return std::none_of(visible.keys.begin(), visible.keys.end(), [](const KeyItem& k) { return k.key.encrypted; });
}

// True when part of the store was never decrypted (no password opened it, or enveloped data,
// which is never opened): what it holds is unknown and may be a key, so it is no trust store.
bool contents_unread(const Walk& visible, bool opened) {
  const auto has = [&](std::string_view c) {
    return std::find(visible.contents.begin(), visible.contents.end(), c) != visible.contents.end();
  };
  return has("enveloped-contents") || (!opened && has("encrypted-contents"));
}

// Certificates in the chain that starts at certs[leaf], found among the store's certificates.
std::uint32_t chain_length(const std::vector<CertItem>& certs, std::size_t leaf) {
  std::vector<bool> used(certs.size(), false);
  used[leaf] = true;
  std::uint32_t n = 1;
  std::size_t cur = leaf;
  while (n < certs.size() && !certs[cur].facts.self_signed) {
    std::size_t next = certs.size();
    for (std::size_t j = 0; j < certs.size(); ++j) {
      if (used[j]) continue;
      if (X509_check_issued(certs[j].cert.get(), certs[cur].cert.get()) == X509_V_OK) {
        next = j;
        break;
      }
    }
    if (next == certs.size()) break;
    used[next] = true;
    cur = next;
    ++n;
  }
  return n;
}

std::vector<StoreEntry> entries_of(const Walk& w) {
  std::vector<StoreEntry> out;
  std::vector<bool> cert_used(w.certs.size(), false);
  for (const KeyItem& k : w.keys) {
    StoreEntry e;
    e.kind = Kind::private_key;
    e.alias = k.alias;
    e.key = k.key;
    // The key's certificate: the same SPKI, else (key still encrypted) the same localKeyID.
    std::size_t match = w.certs.size();
    for (std::size_t i = 0; i < w.certs.size() && match == w.certs.size(); ++i) {
      if (!k.key.spki_sha256.empty() && k.key.spki_sha256 == w.certs[i].facts.spki_sha256) match = i;
    }
    for (std::size_t i = 0; i < w.certs.size() && match == w.certs.size(); ++i) {
      if (k.key.spki_sha256.empty() && !k.local_key_id.empty() && k.local_key_id == w.certs[i].local_key_id) match = i;
    }
    if (match < w.certs.size()) {
      const CertItem& c = w.certs[match];
      cert_used[match] = true;
      e.certificate = c.facts;
      e.chain_length = chain_length(w.certs, match);
      if (e.alias.empty()) e.alias = c.alias;
      if (e.key->spki_sha256.empty()) {  // the SPKI from the key's certificate (StoreEntry contract)
        e.key->algorithm = c.facts.key_algorithm;
        e.key->bits = c.facts.key_bits;
        e.key->curve = c.facts.key_curve;
        e.key->spki_sha256 = c.facts.spki_sha256;
      }
    }
    out.push_back(std::move(e));
  }
  for (std::size_t i = 0; i < w.certs.size(); ++i) {
    if (cert_used[i]) continue;
    StoreEntry e;
    e.kind = Kind::certificate;
    e.alias = w.certs[i].alias;
    e.certificate = w.certs[i].facts;
    out.push_back(std::move(e));
  }
  return out;
}

// Stable weakness ids (see StoreFacts::weaknesses) for one cipher.
void grade_cipher(const std::string& cipher, std::vector<std::string>& weak) {
  if (cipher == "rc2-40-cbc") add_unique(weak, "rc2-40");
  else if (cipher.starts_with("rc2")) add_unique(weak, "rc2");
  else if (cipher.starts_with("rc4")) add_unique(weak, "rc4");
  else if (cipher.starts_with("des-ede")) add_unique(weak, "3des");
  else if (cipher == "des-cbc" || cipher == "des-ecb") add_unique(weak, "des");
}

std::vector<std::string> grade(const StoreFacts& s, bool has_mac, bool plain_key_bag) {
  std::vector<std::string> weak;
  for (const Protection& p : s.encryption) grade_cipher(p.cipher, weak);
  if (!has_mac) add_unique(weak, "no-mac");
  else if (s.mac == "sha1") add_unique(weak, "sha1-mac");
  else if (s.mac == "md5" || s.mac == "md2" || s.mac == "md4") add_unique(weak, "md5-mac");
  bool low = has_mac && s.mac_iterations.value_or(1) < kWeakIterations;
  for (const Protection& p : s.encryption)
    if (p.kdf_iterations && *p.kdf_iterations < kWeakIterations) low = true;
  if (low) add_unique(weak, "low-iterations");
  if (plain_key_bag) add_unique(weak, "unencrypted-key");
  std::sort(weak.begin(), weak.end());
  return weak;
}

}  // namespace

Result<Finding> parse_pkcs12(std::span<const std::uint8_t> data, const PasswordSet& passwords) {
  clear_errors();
  const unsigned char* p = data.data();
  Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(data.size())));
  if (!p12 || p != data.data() + data.size()) {
    clear_errors();
    return make_error_code(Errc::crypto_error);
  }
  Pkcs7StackPtr safes(PKCS12_unpack_authsafes(p12.get()));
  if (!safes) {
    clear_errors();
    return make_error_code(Errc::bad_structure);
  }

  StoreFacts store;
  const bool has_mac = PKCS12_mac_present(p12.get()) == 1;
  long mac_iter = 1;  // RFC 7292 MacData: iterations DEFAULT 1
  if (has_mac) {
    const X509_ALGOR* macalg = nullptr;
    const ASN1_INTEGER* iter = nullptr;
    PKCS12_get0_mac(nullptr, &macalg, nullptr, &iter, p12.get());
    if (macalg != nullptr) {
      const ASN1_OBJECT* obj = nullptr;
      X509_ALGOR_get0(&obj, nullptr, nullptr, macalg);
      const int nid = OBJ_obj2nid(obj);
      store.mac = nid != NID_undef ? lower(OBJ_nid2sn(nid)) : "unknown";
    }
    if (iter != nullptr) mac_iter = ASN1_INTEGER_get(iter);
    if (mac_iter > 0) store.mac_iterations = static_cast<std::uint64_t>(mac_iter);
  }

  // What anyone can read.
  Walk visible;
  walk_store(safes.get(), visible);
  store.contents = visible.contents;
  store.encryption = visible.encryption;

  // Candidate passwords, within the budget of tries and time.
  std::optional<Pass> opened_with;
  if (nothing_protected(has_mac, visible)) {
    store.opened = true;
  } else if (!has_mac || (mac_iter > 0 && mac_iter <= kMaxIterations)) {
    PasswordBudget budget(passwords);
    std::vector<std::optional<Pass>> passes(passwords.candidates.size());
    const std::size_t i = first_opener(passwords, budget, [&](std::size_t at, const PasswordCandidate& c) {
      passes[at] = try_password(p12.get(), has_mac, safes.get(), c.password.view());
      return passes[at].has_value();
    });
    if (i != std::string::npos) {
      opened_with = passes[i];
      mark_opened_by(passwords.candidates[i], store);
    }
  }

  Walk full;
  const Walk* seen = &visible;
  if (opened_with) {
    full.pass = opened_with;
    full.visible_only = false;
    walk_store(safes.get(), full);
    for (const Protection& pr : full.encryption) add_protection(store.encryption, pr);
    seen = &full;
  }
  clear_errors();

  Finding f;
  f.kind = Kind::keystore;
  f.format = Format::pkcs12;
  f.rule = "keystore/pkcs12";
  f.entries = entries_of(*seen);
  store.weaknesses = grade(store, has_mac, visible.plain_key_bag);
  const bool unread = contents_unread(visible, opened_with.has_value());
  store.truststore = seen->keys.empty() && !unread;
  // Shared with the Bouncy Castle stores: the rules weigh a store whose contents are unknown as
  // one that may hold a key (StoreFacts::contents_unknown).
  if (unread) store.contents.emplace_back(kStoreContentsEncrypted);
  // Every certificate bag once: a key's chain beyond its leaf is also listed as entries.
  store.certificates = static_cast<std::uint32_t>(seen->certs.size());
  f.store = std::move(store);

  std::vector<std::string> spkis;
  bool all_known = true;
  for (const StoreEntry& e : f.entries) {
    if (e.kind != Kind::private_key) continue;
    if (e.key && !e.key->spki_sha256.empty()) spkis.push_back(e.key->spki_sha256);
    else all_known = false;
  }
  if (!spkis.empty() && all_known) {
    std::sort(spkis.begin(), spkis.end());
    spkis.erase(std::unique(spkis.begin(), spkis.end()), spkis.end());
    for (const auto& s : spkis) f.identity += (f.identity.empty() ? "" : ",") + s;
  } else {
    f.identity = "blob:" + sha256_hex(std::span<const unsigned char>(data.data(), data.size()));
  }
  return f;
}

}  // namespace keyward::scanner::detail
