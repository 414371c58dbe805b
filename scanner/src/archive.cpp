// Archives and image layers with libarchive: zip/jar/war/ear/apk/aar/nupkg/whl, tar and its
// compressed forms, 7z, ar (.deb), and single compressed files; nested archives to a depth
// limit; OCI/docker image layers named by digest. Bomb limits end one archive, never the scan.
#include "item_scan.hpp"

#include "file_source.hpp"
#include "openssl/handles.hpp"
#include "walk/skip_reason.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <cctype>
#include <memory>

namespace keyward::scanner::detail {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};

constexpr std::uint64_t kRatioFloor = 64ull << 20;  // the ratio limit applies past this many bytes
constexpr std::size_t kChunk = 1u << 16;

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// An OCI/docker layer blob "blobs/sha256/<digest>" is named "sha256:<digest>".
std::string member_name(std::string_view name) {
  while (name.size() > 2 && name.substr(0, 2) == "./") name.remove_prefix(2);
  constexpr std::string_view kBlobs = "blobs/sha256/";
  if (name.substr(0, kBlobs.size()) == kBlobs && is_hex64(name.substr(kBlobs.size())))
    return "sha256:" + std::string(name.substr(kBlobs.size()));
  return std::string(name);
}

bool looks_like_key_name(std::string_view name) {
  const auto slash = name.find_last_of('/');
  std::string base(slash == std::string_view::npos ? name : name.substr(slash + 1));
  for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view prefix : {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
    if (base.rfind(prefix, 0) == 0 && base.find(".pub") == std::string::npos) return true;
  for (std::string_view ext : {".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk", ".p8", ".pk8", ".snk",
                               ".pvk", ".gpg", ".asc", ".jceks", ".bks"}) {
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0) return true;
  }
  return false;
}

void stop(ArchiveBudget& budget, ScanStats& stats, SkipReason reason) {
  if (!budget.stopped) count_skip(stats, reason);
  budget.stopped = true;
}

}  // namespace

bool scan_archive(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  const ScanOptions& o = *ctx.options;
  ArchiveBudget& budget = *ctx.budget;
  if (budget.stopped) return false;
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  if (!a) return false;
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  archive_read_support_format_raw(a.get());  // key.pem.gz: a single compressed file
  for (const auto& p : o.passwords)
    if (!p.empty()) archive_read_add_passphrase(a.get(), p.c_str());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) return false;
  if (ctx.depth >= o.archive_limits.max_depth) {
    count_skip(stats, SkipReason::archive_too_deep);
    return true;
  }
  ++stats.archives;

  std::vector<std::string> locked_key_names;  // encrypted members we could not open
  std::size_t encrypted_opened = 0;
  const std::size_t findings_before = out.size();
  bool any_member = false;
  archive_entry* entry = nullptr;
  int r = ARCHIVE_OK;
  std::string buffer;
  while ((r = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    any_member = true;
    if (++budget.entries > o.archive_limits.max_entries) {
      stop(budget, stats, SkipReason::archive_too_many_entries);
      break;
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const char* raw_name = archive_entry_pathname(entry);
    const std::string name = member_name(raw_name != nullptr ? raw_name : "data");
    const bool sized = archive_entry_size_is_set(entry) != 0;
    const std::int64_t size = sized ? archive_entry_size(entry) : -1;
    if (sized && static_cast<std::uint64_t>(size) > o.max_size) {
      // Skipping a compressed member means inflating it: a bomb is stopped here, by its header.
      const auto declared = static_cast<std::uint64_t>(size);
      if (budget.compressed != 0 && declared / budget.compressed > o.archive_limits.max_ratio) {
        stop(budget, stats, SkipReason::archive_ratio);
        break;
      }
      if (budget.expanded + declared > o.archive_limits.max_expanded) {
        stop(budget, stats, SkipReason::archive_too_large);
        break;
      }
      count_skip(stats, SkipReason::too_large);
      continue;
    }
    buffer.clear();
    if (sized) buffer.reserve(static_cast<std::size_t>(size));
    bool failed = false, too_large = false;
    std::array<char, kChunk> chunk;
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
      if (n == 0) break;
      if (n < 0) {
        failed = true;
        break;
      }
      budget.expanded += static_cast<std::uint64_t>(n);
      if (buffer.size() + static_cast<std::size_t>(n) > o.max_size) {
        too_large = true;
        break;
      }
      buffer.append(chunk.data(), static_cast<std::size_t>(n));
      if (budget.expanded > o.archive_limits.max_expanded) {
        stop(budget, stats, SkipReason::archive_too_large);
        break;
      }
      if (budget.expanded > kRatioFloor && budget.compressed != 0 &&
          budget.expanded / budget.compressed > o.archive_limits.max_ratio) {
        stop(budget, stats, SkipReason::archive_ratio);
        break;
      }
    }
    const bool encrypted = archive_entry_is_encrypted(entry) != 0;
    if (failed) {
      if (encrypted) {
        if (looks_like_key_name(name)) locked_key_names.push_back(name);
        count_skip(stats, SkipReason::archive_encrypted_member);
      } else {
        count_skip(stats, SkipReason::archive_member_error);
      }
      OPENSSL_cleanse(buffer.data(), buffer.size());
      if (budget.stopped) break;
      continue;
    }
    if (too_large) {
      if (budget.compressed != 0 && budget.expanded / budget.compressed > o.archive_limits.max_ratio) {
        stop(budget, stats, SkipReason::archive_ratio);
        OPENSSL_cleanse(buffer.data(), buffer.size());
        break;
      }
      count_skip(stats, SkipReason::too_large);
      OPENSSL_cleanse(buffer.data(), buffer.size());
      continue;
    }
    if (encrypted) ++encrypted_opened;
    ItemContext child = ctx;
    child.member = ctx.member.empty() ? name : ctx.member + "!" + name;
    child.depth = ctx.depth + 1;
    ++stats.archive_members;
    stats.bytes_scanned += buffer.size();
    scan_item(buffer, child, out, stats);
    OPENSSL_cleanse(buffer.data(), buffer.size());
    if (budget.stopped) break;
  }
  if (r == ARCHIVE_FATAL && !budget.stopped) 
    count_skip(stats, any_member ? SkipReason::archive_truncated : SkipReason::archive_unreadable);

  // A password-protected zip is itself a store: opened by a common password, or still locked
  // with members whose names say keys.
  if (!locked_key_names.empty() || (encrypted_opened != 0 && out.size() > findings_before)) {
    Finding f;
    f.kind = Kind::keystore;
    f.format = Format::zip_encrypted;
    f.rule = "keystore/zip-encrypted";
    f.store.emplace();
    f.store->opened = locked_key_names.empty();
    f.store->weak_password = f.store->opened;
    f.store->encryption.push_back(Protection{"zip-encryption", "", std::nullopt});
    for (auto& n : locked_key_names) {
      StoreEntry e;
      e.kind = Kind::private_key;
      e.alias = n;
      f.entries.push_back(std::move(e));
    }
    f.identity = "blob:" + sha256_hex(data);
    f.location.path = ctx.path;
    f.location.member = ctx.member;
    f.file = ctx.facts;
    f.file.owner = owner_name(ctx.facts.uid);
    f.relative_path = ctx.relative_path;
    f.id = finding_id(ctx.relative_path, ctx.member, f.identity, 0);
    out.push_back(std::move(f));
  }
  return true;
}

}  // namespace keyward::scanner::detail
