// SPDX-License-Identifier: Apache-2.0
// Writing a finding's JSON text straight into a string, byte for byte what
// to_json(f).dump(2, ' ', false, replace) gives, without building the JSON tree: the tree of a
// finding took 15 us to build and 6 us to free, three quarters of rendering a report
// (docs/performance.md). Keys are written in the tree's order (std::map: sorted by bytes);
// tests/scanner/finding_json_test.cpp holds the two forms equal over every kind of finding.
#include <keyward/scanner/finding_json.hpp>

#include "encoding.hpp"

#include <keyward/common/utf8.hpp>

#include <charconv>
#include <span>

namespace keyward::scanner {
namespace {

class Writer {
 public:
  // indent < 0: compact, as dump(-1); else pretty, two spaces a level, `indent` levels in.
  Writer(std::string& out, int indent) : out_(out), depth_(indent), pretty_(indent >= 0) {}

  void begin(char open) {
    out_ += open;
    first_.push_back(true);
    ++depth_;
  }
  void end(char close) {
    --depth_;
    if (!first_.back()) newline();
    first_.pop_back();
    out_ += close;
  }
  // The separator before an array element or object member.
  void next() {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
  void key(std::string_view k) {
    next();
    string(k);
    out_ += pretty_ ? ": " : ":";
  }

  void string(std::string_view s) {
    // Not well-formed UTF-8: left to nlohmann's serializer, which replaces what is invalid.
    if (!common::valid_utf8(s)) {
      out_ += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
    out_ += '"';
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s, run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default: {
          static constexpr char kHex[] = "0123456789abcdef";
          out_ += "\\u00";
          out_ += kHex[c >> 4];
          out_ += kHex[c & 15];
        }
      }
    }
    out_.append(s, run, s.size() - run);
    out_ += '"';
  }
  template <class T>
  void number(T v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void boolean(bool v) { out_ += v ? "true" : "false"; }

  // Members.
  void str(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  template <class T>
  void num(std::string_view k, T v) {
    key(k);
    number(v);
  }
  void flag(std::string_view k, bool v) {
    key(k);
    boolean(v);
  }
  void strings(std::string_view k, const std::vector<std::string>& v) {
    key(k);
    begin('[');
    for (const auto& s : v) {
      next();
      string(s);
    }
    end(']');
  }
  // put_bytes: as is when valid UTF-8; else a lossy copy, and the exact bytes in <k>_b64.
  void bytes(std::string_view k, const std::string& v) {
    if (detail::loose_utf8(v)) {
      str(k, v);
      return;
    }
    std::string lossy;
    for (unsigned char c : v) lossy += c < 0x80 ? static_cast<char>(c) : '?';
    str(k, lossy);
    str(std::string(k) + "_b64", detail::base64_encode(std::span<const std::uint8_t>(
                                     reinterpret_cast<const std::uint8_t*>(v.data()), v.size())));
  }

 private:
  void newline() {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth_) * 2, ' ');
  }

  std::string& out_;
  int depth_;
  bool pretty_;
  std::vector<bool> first_;
};

void write_protection(Writer& w, const Protection& p) {
  w.begin('{');
  if (!p.cipher.empty()) w.str("cipher", p.cipher);
  if (!p.kdf.empty()) w.str("kdf", p.kdf);
  if (p.kdf_iterations) w.num("kdf_iterations", *p.kdf_iterations);
  w.end('}');
}

void write_key(Writer& w, const KeyFacts& k) {
  w.begin('{');
  if (!k.algorithm.empty()) w.str("algorithm", k.algorithm);
  if (k.bits) w.num("bits", *k.bits);
  if (!k.comment.empty()) w.bytes("comment", k.comment);
  if (!k.curve.empty()) w.str("curve", k.curve);
  w.flag("encrypted", k.encrypted);
  if (!k.password_exposed_in.empty()) w.str("password_exposed_in", k.password_exposed_in);
  if (!k.pgp_fingerprint.empty()) w.str("pgp_fingerprint", k.pgp_fingerprint);
  if (k.protection) {
    w.key("protection");
    write_protection(w, *k.protection);
  }
  if (!k.spki_sha256.empty()) w.str("spki_sha256", k.spki_sha256);
  if (!k.ssh_fingerprint.empty()) w.str("ssh_fingerprint", k.ssh_fingerprint);
  if (k.weak_password) w.flag("weak_password", true);
  w.end('}');
}

void write_cert(Writer& w, const CertFacts& c) {
  w.begin('{');
  w.strings("extended_key_usage", c.extended_key_usage);
  w.flag("is_ca", c.is_ca);
  w.bytes("issuer", c.issuer);
  if (!c.key_algorithm.empty()) w.str("key_algorithm", c.key_algorithm);
  if (c.key_bits) w.num("key_bits", *c.key_bits);
  if (!c.key_curve.empty()) w.str("key_curve", c.key_curve);
  w.strings("key_usage", c.key_usage);
  w.str("not_after", rfc3339(c.not_after));
  w.str("not_before", rfc3339(c.not_before));
  w.flag("self_signed", c.self_signed);
  w.str("serial", c.serial);
  w.str("sha256", c.sha256);
  if (!c.signature_algorithm.empty()) w.str("signature_algorithm", c.signature_algorithm);
  if (!c.spki_sha256.empty()) w.str("spki_sha256", c.spki_sha256);
  w.bytes("subject", c.subject);
  w.flag("trust_store", c.trust_store);
  w.end('}');
}

void write_entries(Writer& w, const std::vector<StoreEntry>& entries) {
  w.begin('[');
  for (const auto& e : entries) {
    w.next();
    w.begin('{');
    if (!e.alias.empty()) w.bytes("alias", e.alias);
    if (e.certificate) {
      w.key("certificate");
      write_cert(w, *e.certificate);
    }
    if (e.chain_length != 0) w.num("chain_length", e.chain_length);
    if (e.created != 0) w.str("created", rfc3339(e.created));
    if (e.key) {
      w.key("key");
      write_key(w, *e.key);
    }
    w.str("kind", to_string(e.kind));
    w.end('}');
  }
  w.end(']');
}

void write_file(Writer& w, const FileFacts& file) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", file.mode & 07777);
  w.begin('{');
  w.num("gid", file.gid);
  w.str("mode", mode);
  w.str("mtime", rfc3339(file.mtime));
  if (!file.owner.empty()) w.str("owner", file.owner);
  w.num("size", file.size);
  w.num("uid", file.uid);
  w.end('}');
}

void write_git(Writer& w, const GitFacts& git) {
  w.begin('{');
  w.str("author_date", rfc3339(git.author_date));
  w.str("commit", git.commit);
  w.end('}');
}

void write_location(Writer& w, const Location& l) {
  w.begin('{');
  if (!l.host.empty()) w.str("host", l.host);
  if (l.line != 0) w.num("line", l.line);
  if (!l.member.empty()) w.bytes("member", l.member);
  w.num("offset", l.offset);
  w.bytes("path", l.path);
  w.end('}');
}

void write_risk(Writer& w, const RiskFacts& risk) {
  w.begin('{');
  w.key("factors");
  w.begin('[');
  for (const auto& x : risk.factors) {
    w.next();
    w.begin('{');
    w.str("id", x.id);
    w.num("points", x.points);
    w.str("why", x.why);
    w.end('}');
  }
  w.end(']');
  w.num("raw", risk.raw);
  if (!risk.remediation.empty()) w.str("remediation", risk.remediation);
  w.num("score", risk.score);
  w.str("severity", risk.severity);
  w.end('}');
}

void write_store(Writer& w, const StoreFacts& s) {
  w.begin('{');
  if (s.certificates != 0) w.num("certificates", s.certificates);
  if (!s.contents.empty()) w.strings("contents", s.contents);
  if (!s.encryption.empty()) {
    w.key("encryption");
    w.begin('[');
    for (const auto& p : s.encryption) {
      w.next();
      write_protection(w, p);
    }
    w.end(']');
  }
  if (!s.mac.empty()) w.str("mac", s.mac);
  if (s.mac_iterations) w.num("mac_iterations", *s.mac_iterations);
  w.flag("opened", s.opened);
  if (!s.password_exposed_in.empty()) w.bytes("password_exposed_in", s.password_exposed_in);
  w.flag("truststore", s.truststore);
  if (s.weak_password) w.flag("weak_password", true);
  w.strings("weaknesses", s.weaknesses);
  w.end('}');
}

void write_suppression(Writer& w, const Suppression& s) {
  w.begin('{');
  w.str("justification", s.justification);
  w.str("kind", s.kind);
  w.end('}');
}

}  // namespace

// Members in key order, as nlohmann::json's to_json writes them (finding_json_test.cpp holds
// the two equal).
void write_json(const Finding& f, std::string& out, int indent) {
  Writer w(out, indent < 0 ? -1 : indent / 2);
  w.begin('{');
  if (f.certificate) {
    w.key("certificate");
    write_cert(w, *f.certificate);
  }
  if (!f.encoding.empty()) w.str("encoding", f.encoding);
  if (!f.entries.empty()) {
    w.key("entries");
    write_entries(w, f.entries);
  }
  w.key("file");
  write_file(w, f.file);
  w.str("format", to_string(f.format));
  if (f.git) {
    w.key("git");
    write_git(w, *f.git);
  }
  w.str("id", f.id);
  if (f.key) {
    w.key("key");
    write_key(w, *f.key);
  }
  w.str("kind", to_string(f.kind));
  w.key("location");
  write_location(w, f.location);
  if (!f.paired_with.empty()) w.strings("paired_with", f.paired_with);
  if (f.risk) {
    w.key("risk");
    write_risk(w, *f.risk);
  }
  w.str("rule", f.rule);
  if (f.store) {
    w.key("store");
    write_store(w, *f.store);
  }
  if (f.suppressed) {
    w.key("suppressed");
    write_suppression(w, *f.suppressed);
  }
  if (f.trailing_bytes != 0) w.num("trailing_bytes", f.trailing_bytes);
  w.end('}');
}

}  // namespace keyward::scanner
