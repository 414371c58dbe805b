// SPDX-License-Identifier: Apache-2.0
// Archives and image layers with libarchive: zip/jar/war/ear/apk/aar/nupkg/whl, tar and its
// compressed forms, 7z, ar (.deb), cpio and .rpm payloads, and single compressed files (gzip,
// xz, LZMA-alone, bzip2, zstd); nested archives to a depth limit; OCI/docker image layers named
// by digest. Bomb limits end one archive, never the scan.
#include "item_scan.hpp"

#include <keyward/scanner/skip_reason.hpp>
#include "encoding.hpp"
#include "file_source.hpp"
#include "openssl/handles.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>
#include <locale.h>

#include <algorithm>
#include <cctype>
#include <clocale>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

bool head_archive(std::span<const std::uint8_t> head, std::uint64_t size);  // detectors/binary_sniff.cpp

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};

constexpr std::size_t kChunk = 1u << 16;
constexpr std::size_t kMinRead = 4096;

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
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

// The container formats libarchive walks: every one it knows but mtree, which is a text format
// that bids on plain text, so that a decompressed JSON or log file came out as hundreds of bogus
// "members" and its keys were never seen (issue 13). Raw last: a single compressed file
// (key.pem.gz, service-2.json.gz) is then read as the one item it holds (docs/scan.md).
void support_formats(archive* a) {
  archive_read_support_format_7zip(a);
  archive_read_support_format_ar(a);
  archive_read_support_format_cab(a);
  archive_read_support_format_cpio(a);
  archive_read_support_format_empty(a);
  archive_read_support_format_iso9660(a);
  archive_read_support_format_lha(a);
  archive_read_support_format_rar(a);
  archive_read_support_format_rar5(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_warc(a);
  archive_read_support_format_xar(a);
  archive_read_support_format_zip(a);
  archive_read_support_format_raw(a);
}

// What the members of one archive said about its encryption.
struct Locks {
  std::vector<std::string> key_names;  // encrypted members named like keys that no password opened
  std::size_t opened = 0;              // encrypted members a password opened
};

// How reading one member's data went.
enum class MemberRead { ok, failed, too_large };

// Reads the current member into `buffer`, counting what it expands against the budget. A bomb
// limit hit mid-member stops the budget: the part read is still scanned, then the archive ends.
MemberRead read_member(archive* a, const ScanOptions& o, ArchiveBudget& budget, ScanStats& stats, SecretBytes& buffer) {
  for (;;) {
    // Straight into the buffer, so that no other copy of a member's bytes is left to wipe; into
    // the room it has (at least kMinRead): a small member (a .gz man page) is not given, and then
    // wiped, a whole chunk.
    const std::size_t room = std::clamp(buffer.capacity() - buffer.size(), kMinRead, kChunk);
    const la_ssize_t n = archive_read_data(a, buffer.append_space(room), room);
    if (n == 0) return MemberRead::ok;
    if (n < 0) return MemberRead::failed;
    buffer.appended(static_cast<std::size_t>(n));
    budget.expanded += static_cast<std::uint64_t>(n);
    if (buffer.size() > o.max_size) return MemberRead::too_large;
    if (budget.expanded > o.archive_limits.max_expanded) {
      stop_archives(budget, stats, SkipReason::archive_too_large);
      return MemberRead::ok;
    }
    if (budget.expanded > kArchiveRatioFloor && budget.compressed != 0 &&
        budget.expanded / budget.compressed > o.archive_limits.max_ratio) {
      stop_archives(budget, stats, SkipReason::archive_ratio);
      return MemberRead::ok;
    }
  }
}

// Reads and scans the regular member at the current header; false when the archive ends here.
bool scan_member(archive* a, archive_entry* entry, const ItemContext& ctx, SecretBytes& buffer, Locks& locks,
                 std::vector<Finding>& out, ScanStats& stats) {
  const ScanOptions& o = *ctx.options;
  ArchiveBudget& budget = *ctx.budget;
  // The name as UTF-8 (zip and pax store it so; see Utf8Names), else its bytes as stored.
  const char* raw_name = archive_entry_pathname_utf8(entry);
  if (raw_name == nullptr) raw_name = archive_entry_pathname(entry);
  const std::string name = member_name(raw_name != nullptr ? raw_name : "data");
  const bool sized = archive_entry_size_is_set(entry) != 0;
  const std::int64_t size = sized ? archive_entry_size(entry) : -1;
  // Skipping a compressed member means inflating it: a bomb is stopped here, by its header.
  if (sized && static_cast<std::uint64_t>(size) > o.max_size)
    return skip_declared_too_large(static_cast<std::uint64_t>(size), o, budget, stats);
  buffer.clear();
  if (sized) buffer.reserve(static_cast<std::size_t>(size) + kChunk);
  struct Cleanse {  // a member's bytes do not outlive its scan
    SecretBytes& b;
    ~Cleanse() { b.clear(); }
  } cleanse{buffer};
  const MemberRead read = read_member(a, o, budget, stats, buffer);
  const bool encrypted = archive_entry_is_encrypted(entry) != 0;
  if (read == MemberRead::failed) {
    if (encrypted && looks_like_key_name(name)) locks.key_names.push_back(name);
    count_skip(stats, encrypted ? SkipReason::archive_encrypted_member : SkipReason::archive_member_error);
    return !budget.stopped;
  }
  if (read == MemberRead::too_large) {
    if (budget.compressed != 0 && budget.expanded / budget.compressed > o.archive_limits.max_ratio) {
      stop_archives(budget, stats, SkipReason::archive_ratio);
      return false;
    }
    count_skip(stats, SkipReason::too_large);
    return true;
  }
  if (encrypted) ++locks.opened;
  ItemContext child = ctx;
  child.member = ctx.member.empty() ? name : ctx.member + "!" + name;
  child.depth = ctx.depth + 1;
  ++stats.archive_members;
  stats.bytes_scanned += buffer.size();
  scan_item(buffer.view(), child, out, stats);
  return !budget.stopped;
}

// A password-protected zip is itself a store: opened by a common password, or still locked
// with members whose names say keys.
Finding zip_store_finding(std::string_view data, const ItemContext& ctx, Locks& locks) {
  Finding f;
  f.kind = Kind::keystore;
  f.format = Format::zip_encrypted;
  f.rule = "keystore/zip-encrypted";
  f.store.emplace();
  f.store->opened = locks.key_names.empty();
  f.store->weak_password = f.store->opened;
  f.store->encryption.push_back(Protection{"zip-encryption", "", std::nullopt});
  for (auto& n : locks.key_names) {
    StoreEntry e;
    e.kind = Kind::private_key;
    e.alias = n;
    f.entries.push_back(std::move(e));
  }
  f.identity = "blob:" + sha256_hex(data);
  f.location.path = ctx.path;
  f.location.member = ctx.member;
  f.file = ctx.facts;
  f.file.owner = owner_of(ctx);
  f.relative_path = ctx.relative_path;
  f.id = finding_id(ctx.relative_path, ctx.member, f.identity, 0);
  return f;
}

}  // namespace

std::string member_name(std::string_view name) {
  while (name.size() > 2 && name.substr(0, 2) == "./") name.remove_prefix(2);
  constexpr std::string_view kBlobs = "blobs/sha256/";
  if (name.substr(0, kBlobs.size()) == kBlobs && is_hex64(name.substr(kBlobs.size())))
    return "sha256:" + std::string(name.substr(kBlobs.size()));
  return std::string(name);
}

void stop_archives(ArchiveBudget& budget, ScanStats& stats, SkipReason reason) {
  if (!budget.stopped.exchange(true)) count_skip(stats, reason);
}

bool skip_declared_too_large(std::uint64_t declared, const ScanOptions& o, ArchiveBudget& budget, ScanStats& stats) {
  if (budget.compressed != 0 && declared / budget.compressed > o.archive_limits.max_ratio) {
    stop_archives(budget, stats, SkipReason::archive_ratio);
    return false;
  }
  if (budget.expanded + declared > o.archive_limits.max_expanded) {
    stop_archives(budget, stats, SkipReason::archive_too_large);
    return false;
  }
  count_skip(stats, SkipReason::too_large);
  return true;
}

namespace {

// The C.UTF-8 character type, in which libarchive gives a zip's or a pax archive's UTF-8 names
// as they are: in the C locale keyward runs in, a member called "ключ.pem" has no name (and was
// reported as "data"), and every name went through a character-by-character conversion. Made
// once, never changed, never freed; null where the C library has no C.UTF-8.
locale_t utf8_ctype() {
  static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return utf8;
}

// This thread's locale for one libarchive read (uselocale is per thread).
class Utf8Names {
 public:
  Utf8Names() : previous_(utf8_ctype() != nullptr ? ::uselocale(utf8_ctype()) : nullptr) {}
  ~Utf8Names() {
    if (previous_ != nullptr) ::uselocale(previous_);
  }
  Utf8Names(const Utf8Names&) = delete;
  Utf8Names& operator=(const Utf8Names&) = delete;

 private:
  locale_t previous_;
};

// libarchive's reader over a file on disk, a block at a time with pread (never the whole file).
class FileStream {
 public:
  explicit FileStream(OpenFile& file) : file_(file), block_(kBlock) {}

  // Opens `a` over the file; false when libarchive refuses.
  bool open(archive* a) {
    archive_read_set_read_callback(a, &FileStream::read);
    archive_read_set_skip_callback(a, &FileStream::skip);
    archive_read_set_seek_callback(a, &FileStream::seek);
    archive_read_set_callback_data(a, this);
    return archive_read_open1(a) == ARCHIVE_OK;
  }

 private:
  static constexpr std::size_t kBlock = 1u << 20;

  static la_ssize_t read(archive* a, void* self, const void** buffer) {
    auto& s = *static_cast<FileStream*>(self);
    std::size_t got = 0;
    int err = 0;
    if (s.file_.read_at(s.pos_, reinterpret_cast<char*>(s.block_.data()), s.block_.size(), got, err) !=
        ReadStatus::ok) {
      archive_set_error(a, err, "read error");
      return -1;
    }
    s.pos_ += got;
    *buffer = s.block_.data();
    return static_cast<la_ssize_t>(got);
  }
  static la_int64_t skip(archive*, void* self, la_int64_t n) {
    auto& s = *static_cast<FileStream*>(self);
    const auto step = static_cast<la_int64_t>(std::min<std::uint64_t>(
        static_cast<std::uint64_t>(std::max<la_int64_t>(n, 0)), s.file_.size() - std::min(s.pos_, s.file_.size())));
    s.pos_ += static_cast<std::uint64_t>(step);
    return step;
  }
  static la_int64_t seek(archive*, void* self, la_int64_t offset, int whence) {
    auto& s = *static_cast<FileStream*>(self);
    const auto size = static_cast<la_int64_t>(s.file_.size());
    const la_int64_t from = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? static_cast<la_int64_t>(s.pos_) : size;
    const la_int64_t to = from + offset;
    if (to < 0 || to > size) return ARCHIVE_FATAL;
    s.pos_ = static_cast<std::uint64_t>(to);
    return to;
  }

  OpenFile& file_;
  std::uint64_t pos_ = 0;
  SecretBytes block_;  // the file's bytes as libarchive asks for them (members' too): wiped when done
};

// What libarchive reads: bytes in memory, or (with `file`) a file read a block at a time.
struct ArchiveInput {
  std::string_view data;
  OpenFile* file = nullptr;
};

// Every archive libarchive reads, filters and formats (a .tar.gz, a .deb, a zip the fast path
// does not take); false when the input is not one.
bool scan_with_libarchive(const ArchiveInput& in, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  const ScanOptions& o = *ctx.options;
  ArchiveBudget& budget = *ctx.budget;
  const Utf8Names utf8_names;
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  if (!a) return false;
  archive_read_support_filter_all(a.get());
  support_formats(a.get());
  for (const auto& p : o.passwords)
    if (!p.empty()) archive_read_add_passphrase(a.get(), p.c_str());  // libarchive keeps its own copy
  std::optional<FileStream> stream;
  if (in.file != nullptr) {
    if (!stream.emplace(*in.file).open(a.get())) return false;
  } else if (archive_read_open_memory(a.get(), in.data.data(), in.data.size()) != ARCHIVE_OK) {
    return false;
  }
  archive_entry* entry = nullptr;
  int r = archive_read_next_header(a.get(), &entry);
  // Bytes that no filter decoded and no container format took (a text file starting "BZh", a
  // look-alike LZMA header libarchive does not bid on) are not an archive: scanned as they are.
  if ((r == ARCHIVE_OK || r == ARCHIVE_WARN) && archive_format(a.get()) == ARCHIVE_FORMAT_RAW &&
      archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE)
    return false;
  if (ctx.depth >= o.archive_limits.max_depth) {
    count_skip(stats, SkipReason::archive_too_deep);
    return true;
  }
  ++stats.archives;

  Locks locks;
  const std::size_t findings_before = out.size();
  bool any_member = false;
  SecretBytes buffer;  // members' bytes, wiped after each one and when it grows
  for (; r == ARCHIVE_OK || r == ARCHIVE_WARN; r = archive_read_next_header(a.get(), &entry)) {
    any_member = true;
    if (++budget.entries > o.archive_limits.max_entries) {
      stop_archives(budget, stats, SkipReason::archive_too_many_entries);
      break;
    }
    // GNU ar (`ar rcD`, static libraries) writes a mode without file-type bits: a member with
    // no type is a file; directories, links and devices are not read.
    const auto type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != 0) continue;
    if (!scan_member(a.get(), entry, ctx, buffer, locks, out, stats)) break;
  }
  if (r == ARCHIVE_FATAL && !budget.stopped)
    count_skip(stats, any_member ? SkipReason::archive_truncated : SkipReason::archive_unreadable);
  // (A file is streamed only in formats without encryption: locks come from bytes in memory.)
  if (in.file == nullptr && (!locks.key_names.empty() || (locks.opened != 0 && out.size() > findings_before)))
    out.push_back(zip_store_finding(in.data, ctx, locks));
  return true;
}

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};

// The file name a gzip header stores (FNAME, RFC 1952), which libarchive gives its one member;
// nothing when there is none (gzip -n, most packaged files): then the member is "data".
std::optional<std::string_view> gzip_name(std::string_view gz) {
  constexpr unsigned char kExtra = 0x04, kName = 0x08;
  const auto flags = static_cast<unsigned char>(gz[3]);
  if ((flags & kName) == 0) return std::nullopt;
  std::size_t at = 10;
  if ((flags & kExtra) != 0) {
    if (gz.size() < at + 2) return std::nullopt;
    at += 2 + std::size_t{read_le16(std::span(reinterpret_cast<const std::uint8_t*>(gz.data()), gz.size()), at)};
  }
  if (at >= gz.size()) return std::nullopt;
  const auto end = gz.find('\0', at);
  if (end == std::string_view::npos) return std::nullopt;
  return gz.substr(at, end - at);
}

// A gzip file of one member whose trailer says it inflates to at most this is inflated whole by
// libdeflate: the man pages and changelogs of /usr/share/doc (11k on the bench tree, 700 bytes
// each), where libarchive's set-up and bidding cost about 90 us a file. Larger ones stream
// through libarchive, member by member.
constexpr std::uint32_t kWholeGzip = 8u << 20;

// The fast path for a single-member gzip: the same members, names, limits and counts as
// libarchive gives (a tarball inside is still libarchive's, over the inflated bytes; anything
// else is the one member, named as the header says, else "data"), or false, having counted
// nothing, for libarchive to read it.
bool scan_gzip_whole(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  const ScanOptions& o = *ctx.options;
  ArchiveBudget& budget = *ctx.budget;
  const auto* in = reinterpret_cast<const std::uint8_t*>(data.data());
  if (data.size() < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8) return false;
  const std::uint32_t size = read_le32(std::span(in, data.size()), data.size() - 4);  // ISIZE
  if (size > kWholeGzip || size > o.max_size || budget.expanded + size > o.archive_limits.max_expanded) return false;
  std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> inflater(libdeflate_alloc_decompressor());
  if (!inflater) throw std::bad_alloc();
  SecretBytes inflated;  // wiped on every way out
  std::size_t used = 0, got = 0;
  const auto result = libdeflate_gzip_decompress_ex(
      inflater.get(), in, data.size(), inflated.append_space(std::max<std::size_t>(size, 1)), size, &used, &got);
  inflated.appended(result == LIBDEFLATE_SUCCESS ? got : size);
  // Another member after the first, a lying trailer, bad data: libarchive's, with its counts.
  if (result != LIBDEFLATE_SUCCESS || used != data.size() || got != size) return false;
  const auto view = inflated.view();
  if (head_archive(inflated.bytes(), inflated.size()) && scan_with_libarchive({view}, ctx, out, stats)) return true;
  if (ctx.depth >= o.archive_limits.max_depth) {
    count_skip(stats, SkipReason::archive_too_deep);
    return true;
  }
  ++stats.archives;
  if (view.empty()) return true;  // libarchive reads no member from nothing (its "empty" format)
  if (++budget.entries > o.archive_limits.max_entries) {
    stop_archives(budget, stats, SkipReason::archive_too_many_entries);
    return true;
  }
  const std::uint64_t expanded = budget.expanded += view.size();
  if (expanded > kArchiveRatioFloor && budget.compressed != 0 &&
      expanded / budget.compressed > o.archive_limits.max_ratio) {
    stop_archives(budget, stats, SkipReason::archive_ratio);
    return true;
  }
  ItemContext child = ctx;
  const std::string name = member_name(gzip_name(data).value_or("data"));  // libarchive's name for it
  child.member = ctx.member.empty() ? name : ctx.member + "!" + name;
  child.depth = ctx.depth + 1;
  ++stats.archive_members;
  stats.bytes_scanned += view.size();
  scan_item(view, child, out, stats);
  return true;
}

}  // namespace

bool scan_archive(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  if (ctx.budget->stopped) return false;
  return scan_zip_members(data, ctx, out, stats) || scan_gzip_whole(data, ctx, out, stats) ||
         scan_with_libarchive({data}, ctx, out, stats);
}

bool streamable_archive(std::span<const std::uint8_t> head) {
  const auto starts = [&](std::string_view magic) {
    return head.size() >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
  };
  // Compressed streams and containers without encryption; zip and 7z are read otherwise.
  using namespace std::string_view_literals;
  return starts("\x1F\x8B"sv) ||
         starts(
             "\xFD"
             "7zXZ\0"sv) ||
         starts("\x28\xB5\x2F\xFD"sv) || starts("BZh"sv) || starts("!<arch>\n"sv) || starts("070701"sv) ||
         starts("070702"sv) || starts("070707"sv) || starts("\xED\xAB\xEE\xDB"sv) ||
         (head.size() >= 262 && std::memcmp(head.data() + 257, "ustar", 5) == 0);
}

bool scan_archive_file(OpenFile& file, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  if (ctx.budget->stopped) return false;
  return scan_with_libarchive({{}, &file}, ctx, out, stats);
}

}  // namespace keyward::scanner::detail
