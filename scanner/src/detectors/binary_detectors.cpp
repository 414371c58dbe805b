// SPDX-License-Identifier: Apache-2.0
// The binary parsers of the built-in detector entries (detector_list.cpp): each takes a whole
// item whose head its entry announced, runs the format's parser and reports what it found. Key
// stores are opened with the passwords around them, once per scan for the same bytes.
// Used by: item_scan.cpp, through the registry. Never reports or logs a password or key bytes.
#include "detectors/binary.hpp"
#include "detectors/detector.hpp"
#include "detectors/memo.hpp"
#include "detectors/parsers.hpp"
#include "encoding.hpp"
#include "item_scan.hpp"
#include "nearby.hpp"
#include "openssl/handles.hpp"

#include <iterator>

namespace keyward::scanner::detail {
namespace {

// The passwords to try on a store: nearby ones first (from this machine's disk, or through the
// file's source when it is remote: a remote path never names a local file), then the empty
// password, then the common list.
PasswordSet passwords_for(const ItemContext& ctx) {
  const ScanOptions& o = *ctx.options;
  PasswordSet set;
  set.max_tries = o.password_max_tries;
  set.max_time = o.password_max_time;
  set.share = ctx.share;
  if (o.nearby_passwords && ctx.member.empty())
    set.candidates = nearby_passwords(ctx.path, ctx.local ? nullptr : ctx.source);
  set.candidates.push_back({SecretBytes(), ""});
  for (const auto& p : o.passwords)
    if (!p.empty()) set.candidates.push_back({SecretBytes::copy_of(p.view()), ""});
  return set;
}

// What a store is remembered by in the scan's memo: its bytes and the passwords offered to it
// (digests only).
std::string store_key(std::string_view data, const PasswordSet& pw) {
  std::string key = sha256_hex(data) + "|" + std::to_string(pw.max_tries) + "|" + std::to_string(pw.max_time.count());
  for (const auto& c : pw.candidates) {
    SecretBytes material = SecretBytes::copy_of(c.password.view());
    material.push_back(0);
    material.append(c.source);
    key += '|';
    key += sha256_hex(material.bytes());
  }
  return sha256_hex(key);
}

// A store opened once per scan: keytool's PKCS#12 costs 10,000 PBKDF2 rounds per password tried.
template <class Parse>
Result<Finding> open_store(BinaryItem& item, Parse parse) {
  const PasswordSet pw = passwords_for(item.item);
  return item.context.memos().stores.get(store_key(item.data, pw), [&] { return parse(item.bytes(), pw); });
}

// A parser's one finding, or a rejection counted under `family` (not for a public key alone or
// a variant we do not read).
void report(BinaryItem& item, Result<Finding> r, const char* family) {
  if (r) item.found.push_back(std::move(*r));
  else if (r.error() != make_error_code(Errc::not_private) && r.error() != make_error_code(Errc::unsupported))
    ++item.stats.rejected[family];
}

}  // namespace

// PKCS#12 / PFX; declines what it cannot open, for the DER detector.
bool detect_pkcs12(BinaryItem& item) {
  auto r = open_store(item, [](auto b, const PasswordSet& pw) { return parse_pkcs12(b, pw); });
  if (!r) return false;
  item.found.push_back(std::move(*r));
  return true;
}

// A whole-file DER object.
bool detect_der(BinaryItem& item) {
  auto r = parse_der(item.bytes(), &item.context.memos().certificates);
  if (r) std::move(r->begin(), r->end(), std::back_inserter(item.found));
  return true;
}

// JKS and JCEKS.
bool detect_jks(BinaryItem& item) {
  report(item, open_store(item, [](auto b, const PasswordSet& pw) { return parse_jks(b, pw); }), "jks");
  return true;
}

// Bouncy Castle BKS.
bool detect_bks(BinaryItem& item) {
  report(item, open_store(item, [](auto b, const PasswordSet& pw) { return parse_bks(b, pw); }), "bks");
  return true;
}

// Bouncy Castle UBER (no password is tried: its body cannot be decrypted).
bool detect_uber(BinaryItem& item) {
  report(item, parse_uber(item.bytes()), "uber");
  return true;
}

// Bouncy Castle BCFKS; declines what is not one, for the PKCS#12 and DER detectors.
bool detect_bcfks(BinaryItem& item) {
  auto r = open_store(item, [](auto b, const PasswordSet& pw) { return parse_bcfks(b, pw); });
  if (!r) return false;
  item.found.push_back(std::move(*r));
  return true;
}

// PVK.
bool detect_pvk(BinaryItem& item) {
  report(item, parse_pvk(item.bytes()), "pvk");
  return true;
}

// .NET SNK.
bool detect_snk(BinaryItem& item) {
  report(item, parse_snk(item.bytes()), "snk");
  return true;
}

// A binary OpenPGP keyring: one finding per secret key.
bool detect_pgp_packets(BinaryItem& item) {
  auto r = parse_pgp_keyring(item.bytes());
  if (r) {
    for (auto& f : *r) {
      f.format = Format::gpg_binary;
      f.rule = "private-key/gpg-binary";
      item.found.push_back(std::move(f));
    }
  }
  return true;
}

// A GnuPG private-keys-v1.d key file.
bool detect_gpg_key_file(BinaryItem& item) {
  report(item, parse_gpg_key_file(item.bytes()), "gpg-key-file");
  return true;
}

// An archive: its members are scanned as items of their own.
bool detect_archive(BinaryItem& item) {
  item.members_scanned = scan_archive(item.data, item.item, item.out, item.stats);
  return true;
}

// Archives are read unless the options say not to.
bool archives_enabled(const ScanOptions& options) { return options.archives; }

}  // namespace keyward::scanner::detail
