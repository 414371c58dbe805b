// Scanning one item (a file's bytes or an archive member's): text anchors everywhere, binary
// formats by their head, stores opened with nearby and common passwords, archives recursed
// within limits. Used by: scan.cpp (files) and archive.cpp (members).
#pragma once

#include "text_detect.hpp"

#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

class FileSource;  // walk/source.hpp

// Shared by every member of one top-level file: what its archives may still expand.
struct ArchiveBudget {
  std::uint64_t compressed = 0;  // size of the top-level file
  std::uint64_t expanded = 0;
  std::uint64_t entries = 0;
  bool stopped = false;  // a limit was hit: stop reading further members
};

// Where an item sits.
struct ItemContext {
  const ScanOptions* options = nullptr;
  std::string path;           // the file on disk, as reached from the root
  std::string relative_path;  // relative to the root, for ids
  std::string member;         // archive member chain, '!'-separated; empty for the file itself
  FileFacts facts;
  unsigned depth = 0;  // archive nesting
  ArchiveBudget* budget = nullptr;
  bool local = true;             // path and facts.uid are this machine's (walk/source.hpp, FileSource::local)
  FileSource* source = nullptr;  // what a file was read from, for the files beside a store (null: this machine's disk)
};

// Scans a top-level file's bytes as scan_buffer does (counted as scanned, with its own archive
// budget), in the place `ctx` gives (options, path, relative path, facts, local).
void scan_top_item(std::string_view data, ItemContext ctx, std::vector<Finding>& out, ScanStats& stats);

// Scans one item and appends its findings (ids, locations and file facts filled).
void scan_item(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

// What scan_item does once everything in an item is detected: the trust-bundle rule over all its
// text hits, location (offset, line), file facts, ordinals and ids. `hits` carry their file
// offsets and lines; `binary` findings sit at offset 0. Also used by the windowed scan of large
// files (file_scan.cpp), which collects the hits of all windows first.
void finish_item(std::vector<TextHit>& hits, std::vector<Finding>& binary, const ItemContext& ctx,
                 std::vector<Finding>& out, ScanStats& stats);

// The owner of the file: ctx.facts.owner when the source named it; else, for a local file, the
// user name of its uid, looked up once per scan (the ScanMemo of ctx.options, else now); else
// empty (a remote uid is never looked up among this machine's users).
std::string owner_of(const ItemContext& ctx);

// Reads the members of an archive in `data` and scans each with scan_item. Returns false when
// `data` is not an archive libarchive can read (nothing counted then).
bool scan_archive(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats);

}  // namespace keyward::scanner::detail
