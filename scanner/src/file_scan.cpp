// SPDX-License-Identifier: Apache-2.0
#include "file_scan.hpp"

#include "detectors/detector.hpp"
#include "item_scan.hpp"
#include "walk/local_source.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <span>

namespace keyward::scanner::detail {
namespace {

// The head a large file is judged by: enough for every magic sniff_binary knows (tar's
// "ustar" sits at 257).
constexpr std::size_t kHeadSize = 512;

// Text detection over a file fed window by window, in order: the hits of each window's own
// part, placed in the file (offsets, lines), as one whole read would find them.
// Lines are counted lazily: most large files (binaries, logs, databases) hold no key, and
// counting every newline of every window was 7% of the bench tree's scan (perf). A window
// without hits counts nothing; the first hit after such windows counts the bytes since the last
// known line, re-reading from the file what is no longer in the window (rare, and from the page
// cache).
class WindowedText {
 public:
  WindowedText(OpenFile& file, const ScanOptions& options, std::map<std::string, std::uint64_t>& rejected)
      : file_(file), detect_(options), rejected_(rejected) {}

  // False when re-reading for a line count failed (then err is set).
  bool feed(const Window& w, int& err) {
    // The end of the last block found, carried over: anchors inside it are not blocks of their own.
    std::size_t consumed = consumed_until_ > w.offset ? static_cast<std::size_t>(consumed_until_ - w.offset) : 0;
    const std::size_t first = hits_.size();
    detect_text_range(detect_, w.data, w.own_begin, w.own_end, consumed, hits_, rejected_);
    consumed_until_ = std::max(consumed_until_, w.offset + consumed);
    if (hits_.size() == first) return true;
    // Bring the known line up to this window's data, then walk the hits (a JWK's '{' may lie
    // before the window's own part, in the shared part: then the count goes back).
    if (known_at_ < w.offset) {
      if (!count_from_file(w.offset, err)) return false;
    }
    std::size_t cursor = static_cast<std::size_t>(known_at_ - w.offset);
    std::uint64_t line = line_;
    const char* d = w.data.data();
    for (std::size_t i = first; i < hits_.size(); ++i) {
      const std::size_t at = std::min(hits_[i].offset, w.data.size());
      if (at >= cursor) line += static_cast<std::uint64_t>(std::count(d + cursor, d + at, '\n'));
      else line -= static_cast<std::uint64_t>(std::count(d + at, d + cursor, '\n'));
      cursor = at;
      hits_[i].line = line;
      hits_[i].offset += static_cast<std::size_t>(w.offset);
    }
    known_at_ = w.offset + cursor;
    line_ = line;
    return true;
  }

  std::vector<TextHit>& hits() { return hits_; }

 private:
  // Counts the newlines in [known_at_, to) from the file.
  bool count_from_file(std::uint64_t to, int& err) {
    std::vector<char> chunk(std::size_t{1} << 20);
    while (known_at_ < to) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), to - known_at_));
      std::size_t got = 0;
      if (file_.read_at(known_at_, chunk.data(), want, got, err) != ReadStatus::ok) return false;
      if (got == 0) {  // the file shrank under us (the read reports it as changed): lines as far as known
        known_at_ = to;
        break;
      }
      line_ += static_cast<std::uint64_t>(std::count(chunk.data(), chunk.data() + got, '\n'));
      known_at_ += got;
    }
    return true;
  }

  OpenFile& file_;
  DetectContext detect_;  // the scan's detectors and caches
  std::map<std::string, std::uint64_t>& rejected_;
  std::vector<TextHit> hits_;
  std::uint64_t consumed_until_ = 0;  // file offset
  std::uint64_t known_at_ = 0;        // file offset whose line is line_
  std::uint64_t line_ = 1;
};

// Candidate blocks refused so far (a refused private-key block may be a cut or damaged key).
std::uint64_t rejected_total(const ScanStats& stats) {
  std::uint64_t n = 0;
  for (const auto& [family, count] : stats.rejected) n += count;
  return n;
}

bool is_key_material(const Finding& f) { return f.kind == Kind::private_key || f.kind == Kind::keystore; }

// Wipes the read buffer when scan_file leaves, by any way, after a file that held key material:
// a private key or a key store among its findings (or the windowed text hits not yet handed
// over), a refused block (perhaps a cut or damaged key), or an exception (what the file held is
// unknown then). An ordinary file costs no extra pass over its bytes (issue 12).
class WipeIfKey {
 public:
  WipeIfKey(ReadBuffer& buffer, const std::vector<Finding>& out, const ScanStats& stats,
            const std::vector<TextHit>* hits = nullptr)
      : buffer_(buffer),
        out_(out),
        stats_(stats),
        hits_(hits),
        from_(out.size()),
        rejected_(rejected_total(stats)),
        exceptions_(std::uncaught_exceptions()) {}
  WipeIfKey(const WipeIfKey&) = delete;
  WipeIfKey& operator=(const WipeIfKey&) = delete;
  ~WipeIfKey() {
    if (std::uncaught_exceptions() > exceptions_ || held_key_material()) buffer_.wipe();
  }

 private:
  bool held_key_material() const {
    const auto found = std::span(out_).subspan(std::min(from_, out_.size()));
    if (std::any_of(found.begin(), found.end(), is_key_material)) return true;
    if (hits_ != nullptr &&
        std::any_of(hits_->begin(), hits_->end(), [](const TextHit& h) { return is_key_material(h.finding); }))
      return true;
    return rejected_total(stats_) != rejected_;
  }

  ReadBuffer& buffer_;
  const std::vector<Finding>& out_;
  const ScanStats& stats_;
  const std::vector<TextHit>* hits_;
  std::size_t from_;
  std::uint64_t rejected_;
  int exceptions_;
};

// How a large file whose head announces an archive can be read without holding it whole.
enum class LargeArchive { none, zip, stream };

// Whether a large file must be read whole: its head announces a format whose parser needs all
// of it (an archive, when archives are read; a key store; a binary key or DER object); and, for
// an archive, whether it can be read from the file instead (`archive`).
ReadStatus needs_whole_read(OpenFile& file, const ScanOptions& options, bool& whole, LargeArchive& archive, int& err) {
  char head[kHeadSize];
  std::size_t got = 0;
  if (const auto st = file.read_at(0, head, sizeof head, got, err); st != ReadStatus::ok) return st;
  const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(head), got);
  whole = registry_for(options).sniff(bytes, file.size(), &options) != nullptr;
  archive = LargeArchive::none;
  if (options.archives && got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) archive = LargeArchive::zip;
  else if (options.archives && streamable_archive(bytes)) archive = LargeArchive::stream;
  return ReadStatus::ok;
}

// A top-level archive read from its file without holding it whole (scan_zip_file,
// scan_archive_file), counted as scan_top_item counts a file; false, having counted nothing,
// when that path does not read it (then the file is read whole).
bool scan_large_archive(OpenFile& file, LargeArchive kind, ItemContext ctx, std::vector<Finding>& out, ScanStats& stats,
                        FileScanOutcome& r) {
  ArchiveBudget budget;
  budget.compressed = file.size();
  ctx.budget = &budget;
  ScanStats archive_stats;
  const bool read = kind == LargeArchive::zip ? scan_zip_file(file, ctx, out, archive_stats)
                                              : scan_archive_file(file, ctx, out, archive_stats);
  if (!read) return false;
  ++archive_stats.files_scanned;
  archive_stats.bytes_scanned += file.size();
  merge(stats, archive_stats);
  r.bytes = file.size();
  r.changed = file.changed_since_open();
  if (r.changed) count_skip(stats, SkipReason::changed_during_scan);
  return true;
}

}  // namespace

FileScanOutcome scan_file(const std::string& path, const std::string& relative_path, const ScanOptions& options,
                          ReadBuffer& buffer, std::vector<Finding>& out, ScanStats& stats,
                          const std::function<void(std::uint64_t)>& reserve, const std::function<bool()>& keep_going) {
  LocalSource local;
  return scan_file(local, path, relative_path, options, buffer, out, stats, reserve, keep_going);
}

FileScanOutcome scan_file(FileSource& source, const std::string& path, const std::string& relative_path,
                          const ScanOptions& options, ReadBuffer& buffer, std::vector<Finding>& out, ScanStats& stats,
                          const std::function<void(std::uint64_t)>& reserve, const std::function<bool()>& keep_going,
                          WorkShare* share) {
  FileScanOutcome r;
  auto failed = [&](ReadStatus st) {
    r.status = st;
    count_skip(stats, skip_reason(st));
    return r;
  };
  FileFacts facts;
  std::unique_ptr<OpenFile> opened;
  if (const auto st = source.open_file(path, options.max_size, facts, r.err, opened); st != ReadStatus::ok)
    return failed(st);
  OpenFile& file = *opened;
  // What the detectors get to know about this file, whole or in windows.
  const auto item_context = [&] {
    ItemContext ctx;
    ctx.options = &options;
    ctx.path = path;
    ctx.relative_path = relative_path;
    ctx.facts = facts;
    ctx.local = source.local();
    ctx.source = &source;
    ctx.share = share;
    return ctx;
  };
  bool whole = true;
  LargeArchive archive = LargeArchive::none;
  if (file.size() > kWindowThreshold) {
    if (const auto st = needs_whole_read(file, options, whole, archive, r.err); st != ReadStatus::ok) return failed(st);
  }

  // A large archive on this machine's disk is read member by member, never whole (a 50 MB jar or
  // a 31 MB static library would otherwise be held while it is scanned); one that these paths do
  // not read is read whole below.
  if (whole && archive != LargeArchive::none && source.local() &&
      scan_large_archive(file, archive, item_context(), out, stats, r))
    return r;

  if (whole) {
    const WipeIfKey wipe(buffer, out, stats);
    if (const auto st = file.read_all(buffer, r.changed, r.err, reserve); st != ReadStatus::ok) return failed(st);
    if (r.changed) count_skip(stats, SkipReason::changed_during_scan);
    scan_top_item(buffer.view(), item_context(), out, stats);
    r.bytes = buffer.size();
    return r;
  }

  if (reserve) reserve(kWindowLayout.size);
  WindowedText text(file, options, stats.rejected);
  const WipeIfKey wipe(buffer, out, stats, &text.hits());  // destroyed before `text`
  bool first = true;
  bool recount_failed = false;
  const auto st = read_windows(file, kWindowLayout, buffer, r.changed, r.err, [&](const Window& w) {
    if (!first && keep_going && !keep_going()) {
      r.complete = false;
      return false;
    }
    first = false;
    ++r.windows;
    if (!text.feed(w, r.err)) {
      recount_failed = true;
      return false;
    }
    r.bytes += w.own_end - w.own_begin;
    return true;
  });
  if (st != ReadStatus::ok) return failed(st);  // as a whole read that failed: nothing reported
  if (recount_failed) return failed(ReadStatus::io_error);
  if (r.changed) count_skip(stats, SkipReason::changed_during_scan);
  ++stats.files_scanned;
  stats.bytes_scanned += r.bytes;
  std::vector<Finding> binary;  // the head announced none
  finish_item(text.hits(), binary, item_context(), out, stats);
  return r;
}

}  // namespace keyward::scanner::detail
