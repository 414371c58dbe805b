#include "text_detect.hpp"

#include "detectors/parsers.hpp"
#include "detectors/pem.hpp"
#include "encoding.hpp"
#include "prefilter.hpp"

#include "openssl/handles.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>

namespace keyward::scanner::detail {
namespace {

constexpr int kMaxDepth = 2;                   // base64-wrapped PEM inside base64-wrapped PEM
constexpr std::size_t kMaxWrapped = 1u << 20;  // a base64 blob larger than this is not a key
constexpr std::size_t kMaxJson = 1u << 20;
static_assert(kMaxJson <= kTextLookbehind && kMaxJson < kTextLookahead && kMaxWrapped < kTextLookahead,
              "text detectors must stay within the window overlap (text_detect.hpp)");

void count(std::map<std::string, std::uint64_t>& rejected, std::string_view family) {
  ++rejected[std::string(family)];
}

// Finds the JSON object around a "kty" member: back to the unmatched '{', then forward to its
// matching '}' (string-aware). Returns npos bounds when there is none.
void detect(std::string_view data, std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected,
            int depth);
void detect_one(std::string_view data, const AnchorHit& a, std::vector<TextHit>& out,
                std::map<std::string, std::uint64_t>& rejected, int depth, std::size_t& consumed_until);

std::pair<std::size_t, std::size_t> enclosing_object(std::string_view data, std::size_t at) {
  constexpr auto npos = std::string_view::npos;
  int depth = 0;
  std::size_t open = npos;
  const std::size_t floor = at > kMaxJson ? at - kMaxJson : 0;
  for (std::size_t i = at; i-- > floor;) {
    if (data[i] == '}') ++depth;
    else if (data[i] == '{') {
      if (depth == 0) { open = i; break; }
      --depth;
    }
  }
  if (open == npos) return {npos, npos};
  depth = 0;
  bool in_string = false;
  const std::size_t ceil = std::min(data.size(), open + kMaxJson);
  for (std::size_t i = open; i < ceil; ++i) {
    const char c = data[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return {open, i + 1};
    }
  }
  return {npos, npos};
}

void detect_anchors(std::string_view data, const std::vector<AnchorHit>& anchors, std::size_t& consumed_until,
                    std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected, int depth) {
  for (const AnchorHit& a : anchors) {
    if (a.at < consumed_until) continue;
    const std::size_t before = out.size();
    detect_one(data, a, out, rejected, depth, consumed_until);
    // A finding with no key fingerprint (an encrypted SSH.com key) is known by its block.
    for (std::size_t i = before; i < out.size(); ++i) {
      if (out[i].finding.identity.empty()) {
        const std::size_t end = std::max(consumed_until, a.at);
        out[i].finding.identity = "blob:" + sha256_hex(data.substr(a.at, end - a.at));
      }
    }
    ERR_clear_error();  // parsers may leave OpenSSL errors behind; never let them pile up
  }
}

void detect(std::string_view data, std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected,
            int depth) {
  std::vector<AnchorHit> anchors;
  find_anchors(data, anchors);
  std::size_t consumed_until = 0;
  detect_anchors(data, anchors, consumed_until, out, rejected, depth);
}

void detect_one(std::string_view whole, const AnchorHit& a, std::vector<TextHit>& out,
                std::map<std::string, std::uint64_t>& rejected, int depth, std::size_t& consumed_until) {
  // No detector reads past kTextLookahead from its anchor, so a window that holds that much
  // after the anchor gives the same answer as the whole file.
  const std::string_view data = whole.substr(0, std::min(whole.size(), a.at + kTextLookahead));
  {
    switch (a.anchor) {
      case Anchor::pem: {
        auto r = decode_pem(data, a.at);
        if (!r) {
          if (r.error() != make_error_code(Errc::unsupported)) {
            // The family of a known label whose body failed: count it.
            std::size_t p = a.at + 11, q = p;
            while (q < data.size() && q - p < 64 && data[q] != '-') ++q;
            count(rejected, pem_label_family(data.substr(p, q - p)));
          }
          break;
        }
        for (auto& f : r->findings) {
          if (r->escaped) f.encoding = "escaped";
          out.push_back({std::move(f), a.at});
        }
        consumed_until = a.at + r->consumed;
        break;
      }
      case Anchor::sshcom: {
        auto r = parse_sshcom(data.substr(a.at));
        if (!r) { count(rejected, "sshcom"); break; }
        out.push_back({std::move(r->finding), a.at});
        consumed_until = a.at + r->consumed;
        break;
      }
      case Anchor::putty: {
        auto r = parse_ppk(data.substr(a.at));
        if (!r) { count(rejected, "putty"); break; }
        out.push_back({std::move(r->finding), a.at});
        consumed_until = a.at + r->consumed;
        break;
      }
      case Anchor::xml_rsa: {
        auto r = parse_xml_rsa(data.substr(a.at));
        if (!r) {
          if (r.error() != make_error_code(Errc::not_private)) count(rejected, "xml-rsa");
          break;
        }
        out.push_back({std::move(r->finding), a.at});
        consumed_until = a.at + r->consumed;
        break;
      }
      case Anchor::jwk: {
        const auto [open, close] = enclosing_object(data, a.at);
        if (open == std::string_view::npos) break;
        auto r = parse_jwk(data.substr(open, close - open));
        if (!r) {
          if (r.error() != make_error_code(Errc::unsupported) && r.error() != make_error_code(Errc::not_private))
            count(rejected, "jwk");
          break;
        }
        out.push_back({std::move(*r), open});
        consumed_until = close;
        break;
      }
      case Anchor::base64_pem: {
        if (depth >= kMaxDepth) break;
        std::size_t end = a.at;
        while (end < data.size() && end - a.at < kMaxWrapped &&
               (is_base64_char(data[end]) || data[end] == '=' || data[end] == '\n' || data[end] == '\r'))
          ++end;
        auto decoded = base64_decode(data.substr(a.at, end - a.at));
        if (!decoded) {
          // A wrapped run may stop mid-quantum at a line break that belongs to the text around it.
          std::size_t trimmed = end;
          while (trimmed > a.at && (data[trimmed - 1] == '\n' || data[trimmed - 1] == '\r')) --trimmed;
          decoded = base64_decode(data.substr(a.at, trimmed - a.at));
          if (!decoded) break;
        }
        const std::string_view inner(reinterpret_cast<const char*>(decoded->data()), decoded->size());
        std::vector<TextHit> inner_hits;
        detect(inner, inner_hits, rejected, depth + 1);
        for (auto& h : inner_hits) {
          h.finding.encoding = "base64";
          out.push_back({std::move(h.finding), a.at});
        }
        OPENSSL_cleanse(decoded->data(), decoded->size());
        if (!inner_hits.empty()) consumed_until = end;
        break;
      }
    }
  }
}

}  // namespace

void detect_text(std::string_view data, std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected) {
  detect(data, out, rejected, 0);
}

void detect_text_range(std::string_view data, std::size_t from, std::size_t to, std::size_t& consumed_until,
                       std::vector<TextHit>& out, std::map<std::string, std::uint64_t>& rejected) {
  std::vector<AnchorHit> anchors;
  find_anchors_in(data, from, to, anchors);
  detect_anchors(data, anchors, consumed_until, out, rejected, 0);
}

}  // namespace keyward::scanner::detail
