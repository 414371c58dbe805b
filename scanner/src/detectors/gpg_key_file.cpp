// SPDX-License-Identifier: Apache-2.0
// GnuPG 2.1+ private-keys-v1.d/<keygrip>.key files, gpg-agent's key store (gnupg
// agent/keyformat.txt): one S-expression, either alone in canonical form
// ("(21:protected-private-key(3:rsa(1:n257:...)...))") or as the value of the "Key:" field of the
// extended name-value format ("Created: ...\nKey: (protected-private-key (rsa (n #00C1...#)..."),
// whose continuation lines start with a space. The S-expression may use canonical atoms
// (len:bytes), tokens, #hex#, "quoted" and |base64| strings.
// Public parts give the key facts. Secret parts (and the protected blob) are never decoded:
// atoms are kept as spans of the input and only public ones are decoded.
#include "detectors/binary.hpp"

#include "detectors/parsers.hpp"
#include "encoding.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {
namespace {

constexpr std::size_t kMaxInput = std::size_t{1} << 20;
constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxNodes = 4096;
constexpr std::size_t kMaxAtom = 64 * 1024;

// One S-expression node; an atom is a span of the input in its written encoding.
struct Node {
  enum class Type { list, raw, token, hex, base64, quoted } type = Type::list;
  std::span<const std::uint8_t> text;  // atom: the encoded bytes between the delimiters
  std::vector<Node> items;             // list

  bool is_list() const { return type == Type::list; }
};

bool is_space(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
bool is_digit(std::uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(std::uint8_t c) { return std::isxdigit(c) != 0; }
// Token characters of libgcrypt's advanced format (sexp.c: alphanumerics and "-./_:*+=").
bool is_token_char(std::uint8_t c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '/' || c == '_' || c == ':' || c == '*' || c == '+' ||
         c == '=';
}

// Parses one S-expression from `in` at `pos`. In `extended` mode the text is the value of a
// name-value field: a line break must be followed by a space or tab (a continuation line), or
// the field ended before the S-expression did.
class SexpParser {
 public:
  SexpParser(std::span<const std::uint8_t> in, std::size_t pos, bool extended)
      : in_(in), pos_(pos), extended_(extended) {}

  Result<Node> parse_top() {
    if (auto s = skip_space(); !s) return s.error();
    if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
    if (in_[pos_] != '(') return make_error_code(Errc::bad_structure);
    return parse_list(0);
  }
  std::size_t position() const { return pos_; }

 private:
  // Checks a line break at in_[i] (extended mode).
  Result<void> line_break(std::size_t i) const {
    if (!extended_ || in_[i] != '\n') return {};
    if (i + 1 >= in_.size()) return make_error_code(Errc::truncated);
    if (in_[i + 1] != ' ' && in_[i + 1] != '\t') return make_error_code(Errc::truncated);
    return {};
  }

  Result<void> skip_space() {
    while (pos_ < in_.size() && is_space(in_[pos_])) {
      if (auto s = line_break(pos_); !s) return s;
      ++pos_;
    }
    return {};
  }

  Result<Node> parse_list(int depth) {
    if (depth > kMaxDepth) return make_error_code(Errc::too_large);
    ++pos_;  // '('
    Node list;
    for (;;) {
      if (auto s = skip_space(); !s) return s.error();
      if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
      const std::uint8_t c = in_[pos_];
      if (c == ')') {
        ++pos_;
        return list;
      }
      if (++nodes_ > kMaxNodes) return make_error_code(Errc::too_large);
      if (c == '(') {
        auto child = parse_list(depth + 1);
        if (!child) return child.error();
        list.items.push_back(std::move(*child));
        continue;
      }
      if (c == '[') {  // a display hint: [atom] before the atom it describes; ignored
        ++pos_;
        if (auto s = skip_space(); !s) return s.error();
        auto hint = parse_atom();
        if (!hint) return hint.error();
        if (auto s = skip_space(); !s) return s.error();
        if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
        if (in_[pos_] != ']') return make_error_code(Errc::bad_structure);
        ++pos_;
        if (auto s = skip_space(); !s) return s.error();
        if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
      }
      auto atom = parse_atom();
      if (!atom) return atom.error();
      list.items.push_back(std::move(*atom));
    }
  }

  // The bytes up to the closing `close`, checked with `valid` (whitespace allowed).
  Result<Node> delimited(Node::Type type, std::uint8_t close, bool (*valid)(std::uint8_t)) {
    const std::size_t start = ++pos_;
    while (pos_ < in_.size() && in_[pos_] != close) {
      if (is_space(in_[pos_])) {
        if (auto s = line_break(pos_); !s) return s.error();
      } else if (!valid(in_[pos_])) {
        return make_error_code(Errc::bad_encoding);
      }
      ++pos_;
    }
    if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
    if (pos_ - start > 2 * kMaxAtom) return make_error_code(Errc::too_large);
    Node n;
    n.type = type;
    n.text = in_.subspan(start, pos_ - start);
    ++pos_;
    return n;
  }

  Result<Node> quoted() {
    const std::size_t start = ++pos_;
    while (pos_ < in_.size() && in_[pos_] != '"') {
      if (auto s = line_break(pos_); !s) return s.error();
      if (in_[pos_] == '\\') ++pos_;  // the escaped character is skipped whatever it is
      ++pos_;
    }
    if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
    if (pos_ - start > kMaxAtom) return make_error_code(Errc::too_large);
    Node n;
    n.type = Node::Type::quoted;
    n.text = in_.subspan(start, pos_ - start);
    ++pos_;
    return n;
  }

  Result<Node> parse_atom() {
    if (pos_ >= in_.size()) return make_error_code(Errc::truncated);
    const std::uint8_t c = in_[pos_];
    if (is_digit(c)) {  // "len:bytes" (canonical), or a length before another form, or a token
      std::size_t end = pos_;
      std::size_t len = 0;
      while (end < in_.size() && is_digit(in_[end])) {
        if (end - pos_ >= 9) return make_error_code(Errc::bad_structure);
        len = len * 10 + (in_[end] - '0');
        ++end;
      }
      if (end >= in_.size()) return make_error_code(Errc::truncated);
      if (in_[end] == ':') {
        if (len > kMaxAtom) return make_error_code(Errc::too_large);
        if (in_.size() - end - 1 < len) return make_error_code(Errc::truncated);
        Node n;
        n.type = Node::Type::raw;
        n.text = in_.subspan(end + 1, len);
        pos_ = end + 1 + len;
        return n;
      }
      if (in_[end] == '"' || in_[end] == '#' || in_[end] == '|') {
        pos_ = end;
        return parse_atom();
      }
    }
    if (c == '#') return delimited(Node::Type::hex, '#', is_hex_digit);
    if (c == '|')
      return delimited(Node::Type::base64, '|',
                       [](std::uint8_t b) { return is_base64_char(static_cast<char>(b)) || b == '='; });
    if (c == '"') return quoted();
    if (is_token_char(c)) {
      const std::size_t start = pos_;
      while (pos_ < in_.size() && is_token_char(in_[pos_])) ++pos_;
      if (pos_ - start > kMaxAtom) return make_error_code(Errc::too_large);
      Node n;
      n.type = Node::Type::token;
      n.text = in_.subspan(start, pos_ - start);
      return n;
    }
    return make_error_code(Errc::bad_encoding);
  }

  std::span<const std::uint8_t> in_;
  std::size_t pos_;
  bool extended_;
  std::size_t nodes_ = 0;
};

int hex_value(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// The bytes of a quoted string (\b \t \v \n \f \r, line continuations, \xHH, \ooo, and any other
// escaped character as itself); nullopt when an escape is cut short or out of range.
std::optional<ByteVec> unquote(std::span<const std::uint8_t> text) {
  static constexpr std::string_view kNamed = "btvnfr", kValues = "\b\t\v\n\f\r";
  ByteVec out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::uint8_t c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= text.size()) return std::nullopt;
    const std::uint8_t e = text[i];
    if (const auto k = kNamed.find(static_cast<char>(e)); k != std::string_view::npos) {
      out.push_back(static_cast<std::uint8_t>(kValues[k]));
    } else if (e == '\n' || e == '\r') {
      // a line continuation
    } else if (e == 'x') {
      if (i + 2 >= text.size() || !is_hex_digit(text[i + 1]) || !is_hex_digit(text[i + 2])) return std::nullopt;
      out.push_back(static_cast<std::uint8_t>(hex_value(text[i + 1]) << 4 | hex_value(text[i + 2])));
      i += 2;
    } else if (e >= '0' && e <= '7') {  // \ooo
      if (i + 2 >= text.size()) return std::nullopt;
      int v = 0;
      for (std::size_t j = 0; j < 3; ++j) {
        const std::uint8_t d = text[i + j];
        if (d < '0' || d > '7') return std::nullopt;
        v = v * 8 + (d - '0');
      }
      if (v > 255) return std::nullopt;
      out.push_back(static_cast<std::uint8_t>(v));
      i += 2;
    } else {
      out.push_back(e);  // \" \' \\ and anything else: the character itself
    }
  }
  return out;
}

// Decodes a public atom's value; nullopt when its encoding is broken. Never called on secret
// parts.
std::optional<ByteVec> value_of(const Node& n) {
  if (n.is_list()) return std::nullopt;
  ByteVec out;
  switch (n.type) {
    case Node::Type::raw:
    case Node::Type::token:
      return ByteVec(n.text.begin(), n.text.end());
    case Node::Type::hex: {
      int high = -1;
      for (std::uint8_t c : n.text) {
        if (is_space(c)) continue;
        if (high < 0) high = hex_value(c);
        else {
          out.push_back(static_cast<std::uint8_t>(high << 4 | hex_value(c)));
          high = -1;
        }
      }
      if (high >= 0) return std::nullopt;
      return out;
    }
    case Node::Type::base64:
      return base64_decode(std::string_view(reinterpret_cast<const char*>(n.text.data()), n.text.size()));
    case Node::Type::quoted:
      return unquote(n.text);
    case Node::Type::list:
      break;
  }
  return std::nullopt;
}

std::string text_of(const Node& n) {
  auto v = value_of(n);
  return v ? std::string(v->begin(), v->end()) : std::string();
}

// Whether an atom is exactly `name` (names are raw or token atoms in practice).
bool atom_is(const Node& n, std::string_view name) {
  if (n.is_list()) return false;
  if (n.type == Node::Type::raw || n.type == Node::Type::token)
    return std::string_view(reinterpret_cast<const char*>(n.text.data()), n.text.size()) == name;
  return text_of(n) == name;
}

// The first sublist of `list` (after its name) whose name is `name`, or nullptr.
const Node* find(const Node& list, std::string_view name) {
  for (std::size_t i = 1; i < list.items.size(); ++i) {
    const Node& child = list.items[i];
    if (child.is_list() && !child.items.empty() && atom_is(child.items[0], name)) return &child;
  }
  return nullptr;
}

// The value of "(name value)" in `list` (public parameters only), or nullopt.
std::optional<ByteVec> param(const Node& list, std::string_view name) {
  const Node* p = find(list, name);
  if (p == nullptr || p->items.size() < 2 || p->items[1].is_list()) return std::nullopt;
  return value_of(p->items[1]);
}

// libgcrypt curve names (cipher/ecc-curves.c) to OpenSSL group names.
std::string openssl_group(std::string_view curve) {
  struct Pair {
    std::string_view from, to;
  };
  static constexpr Pair kCurves[] = {
      {"NIST P-256", "prime256v1"},
      {"nistp256", "prime256v1"},
      {"prime256v1", "prime256v1"},
      {"secp256r1", "prime256v1"},
      {"1.2.840.10045.3.1.7", "prime256v1"},
      {"NIST P-384", "secp384r1"},
      {"nistp384", "secp384r1"},
      {"secp384r1", "secp384r1"},
      {"1.3.132.0.34", "secp384r1"},
      {"NIST P-521", "secp521r1"},
      {"nistp521", "secp521r1"},
      {"secp521r1", "secp521r1"},
      {"1.3.132.0.35", "secp521r1"},
      {"NIST P-224", "secp224r1"},
      {"nistp224", "secp224r1"},
      {"secp224r1", "secp224r1"},
      {"NIST P-192", "prime192v1"},
      {"nistp192", "prime192v1"},
      {"prime192v1", "prime192v1"},
      {"brainpoolP256r1", "brainpoolP256r1"},
      {"1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"},
      {"brainpoolP384r1", "brainpoolP384r1"},
      {"1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1"},
      {"brainpoolP512r1", "brainpoolP512r1"},
      {"1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1"},
      {"secp256k1", "secp256k1"},
      {"1.3.132.0.10", "secp256k1"},
  };
  for (const auto& p : kCurves)
    if (p.from == curve) return std::string(p.to);
  return {};
}

// The raw-key algorithm of a Montgomery/Edwards curve, or empty.
std::string_view raw_algorithm(std::string_view curve) {
  if (curve == "Ed25519" || curve == "1.3.6.1.4.1.11591.15.1" || curve == "1.3.101.112") return "ED25519";
  if (curve == "Curve25519" || curve == "cv25519" || curve == "X25519" || curve == "1.3.6.1.4.1.3029.1.5.1" ||
      curve == "1.3.101.110")
    return "X25519";
  if (curve == "Ed448" || curve == "1.3.101.113") return "ED448";
  if (curve == "X448" || curve == "1.3.101.111") return "X448";
  return {};
}

std::uint32_t bit_length(const ByteVec& v) {
  std::size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  if (i == v.size()) return 0;
  std::uint32_t bits = static_cast<std::uint32_t>((v.size() - i) * 8);
  for (std::uint8_t top = v[i]; (top & 0x80) == 0; top = static_cast<std::uint8_t>(top << 1)) --bits;
  return bits;
}

// Facts of the public parts of an algorithm list ("(rsa (n ..)(e ..) ...)").
Result<void> key_facts(const Node& algo, std::string_view name, KeyFacts& key) {
  if (name == "rsa") {
    auto n = param(algo, "n"), e = param(algo, "e");
    if (!n || !e) return make_error_code(Errc::bad_structure);
    return key_facts_from_rsa(*n, *e, key);
  }
  if (name == "dsa") {
    auto p = param(algo, "p"), q = param(algo, "q"), g = param(algo, "g"), y = param(algo, "y");
    if (!p || !q || !g || !y) return make_error_code(Errc::bad_structure);
    return key_facts_from_dsa(*p, *q, *g, *y, key);
  }
  if (name == "elg" || name == "openpgp-elg" || name == "openpgp-elg-sig") {
    auto p = param(algo, "p");
    if (!p) return make_error_code(Errc::bad_structure);
    key.algorithm = "elgamal";
    if (const auto bits = bit_length(*p); bits > 0) key.bits = bits;
    return {};
  }
  if (name == "ecc" || name == "ecdsa" || name == "ecdh" || name == "eddsa") {
    auto curve_bytes = param(algo, "curve");
    auto q = param(algo, "q");
    if (!curve_bytes || !q || q->empty()) return make_error_code(Errc::bad_structure);
    const std::string curve(curve_bytes->begin(), curve_bytes->end());
    if (const auto raw = raw_algorithm(curve); !raw.empty()) {
      // OpenPGP's native point form may prefix the raw key with 0x40.
      const std::size_t size = raw == "ED448" ? 57 : raw == "X448" ? 56 : 32;
      std::span<const std::uint8_t> point(*q);
      if (point.size() == size + 1 && point[0] == 0x40) point = point.subspan(1);
      return key_facts_from_raw(raw, point, key);
    }
    if (const auto group = openssl_group(curve); !group.empty()) return key_facts_from_ec(group, *q, key);
    key.algorithm = "ec";  // a curve OpenSSL does not know: what the file says
    key.curve = clean_comment(curve);
    return {};
  }
  return make_error_code(Errc::unsupported);
}

// The secret parameter an unprotected key must carry (never decoded).
std::string_view secret_param(std::string_view name) {
  if (name == "rsa" || name == "ecc" || name == "ecdsa" || name == "ecdh" || name == "eddsa") return "d";
  return "x";  // dsa, elg
}

// Protection from "(protected <mode> <params> <blob>)": openpgp-s2k3-sha1-aes-cbc (S2K with
// a SHA-1 checksum, AES-128-CBC) or openpgp-s2k3-ocb-aes (AES-128-OCB); the params begin with
// "(<hash> <salt> <count>)".
Protection protection_of(const Node& protected_list) {
  Protection p;
  const std::string mode = protected_list.items.size() > 1 ? text_of(protected_list.items[1]) : std::string();
  std::string hash = "sha1";
  std::optional<std::uint64_t> count;
  if (protected_list.items.size() > 2 && protected_list.items[2].is_list() && !protected_list.items[2].items.empty() &&
      protected_list.items[2].items[0].is_list()) {
    const Node& s2k = protected_list.items[2].items[0];
    if (!s2k.items.empty() && !s2k.items[0].is_list()) {
      auto h = text_of(s2k.items[0]);
      if (!h.empty() && h.size() <= 16 &&
          std::all_of(h.begin(), h.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
        hash = h;
    }
    if (s2k.items.size() > 2 && !s2k.items[2].is_list()) {
      const auto c = text_of(s2k.items[2]);
      std::uint64_t v = 0;
      const auto [ptr, ec] = std::from_chars(c.data(), c.data() + c.size(), v);
      if (ec == std::errc() && ptr == c.data() + c.size() && !c.empty()) count = v;
    }
  }
  constexpr std::string_view kS2k = "openpgp-s2k3-";
  if (std::string_view(mode).starts_with(kS2k)) {
    std::string_view rest = std::string_view(mode).substr(kS2k.size());
    if (rest.starts_with("sha1-")) rest.remove_prefix(5);  // the checksum, not the S2K hash
    p.cipher = clean_comment(rest);
    p.kdf = "openpgp-s2k3-" + hash;
    p.kdf_iterations = count;
  } else {
    p.cipher = clean_comment(mode);  // e.g. openpgp-native: the OpenPGP packet's own protection
  }
  return p;
}

bool is_name_char(std::uint8_t c) { return std::isalnum(c) != 0 || c == '-' || c == '_'; }

// The offset of the "Key:" field's value in an extended-format file; errors when there is none.
Result<std::size_t> key_field(std::span<const std::uint8_t> data) {
  std::size_t pos = 0;
  bool any = false;
  while (pos < data.size()) {
    const std::size_t nl = std::find(data.begin() + static_cast<std::ptrdiff_t>(pos), data.end(), '\n') - data.begin();
    const auto line = data.subspan(pos, nl - pos);
    const std::size_t next = nl < data.size() ? nl + 1 : data.size();
    if (line.empty() || line[0] == '#' || line[0] == ' ' || line[0] == '\t' || line[0] == '\r') {
      pos = next;  // blank, comment, or a continuation of a field we do not read
      continue;
    }
    std::size_t colon = 0;
    while (colon < line.size() && is_name_char(line[colon])) ++colon;
    if (colon == 0 || colon >= line.size() || line[colon] != ':')
      return make_error_code(any ? Errc::bad_structure : Errc::bad_magic);
    any = true;
    std::string name(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "key") return pos + colon + 1;
    pos = next;
  }
  return make_error_code(any ? Errc::not_private : Errc::bad_magic);
}

}  // namespace

Result<Finding> parse_gpg_key_file(std::span<const std::uint8_t> data) {
  if (data.empty()) return make_error_code(Errc::truncated);
  if (data.size() > kMaxInput) return make_error_code(Errc::too_large);
  const bool extended = data[0] != '(';
  std::size_t start = 0;
  if (extended) {
    auto at = key_field(data);
    if (!at) return at.error();
    start = *at;
  }
  SexpParser parser(data, start, extended);
  auto root = parser.parse_top();
  if (!root) return root.error();
  // Nothing but whitespace may follow the canonical form, or the rest of the Key: line.
  for (std::size_t i = parser.position(); i < data.size(); ++i) {
    if (extended && data[i] == '\n') break;
    if (!is_space(data[i])) return make_error_code(Errc::bad_structure);
  }

  if (root->items.size() < 2 || root->items[0].is_list() || !root->items[1].is_list() || root->items[1].items.empty() ||
      root->items[1].items[0].is_list())
    return make_error_code(Errc::bad_structure);
  const std::string type = text_of(root->items[0]);
  if (type == "shadowed-private-key" || type == "public-key") return make_error_code(Errc::not_private);
  if (type != "private-key" && type != "protected-private-key") return make_error_code(Errc::unsupported);
  const Node& algo = root->items[1];
  const std::string name = text_of(algo.items[0]);

  KeyFacts key;
  if (auto r = key_facts(algo, name, key); !r) return r.error();
  if (type == "protected-private-key") {
    const Node* prot = find(algo, "protected");
    if (prot == nullptr) return make_error_code(Errc::bad_structure);
    key.encrypted = true;
    key.protection = protection_of(*prot);
  } else if (find(algo, secret_param(name)) == nullptr) {
    return make_error_code(Errc::bad_structure);  // a "private" key without its secret
  }
  if (const Node* comment = find(*root, "comment"); comment != nullptr && comment->items.size() > 1)
    key.comment = clean_comment(text_of(comment->items[1]));

  Finding finding;
  finding.kind = Kind::private_key;
  finding.format = Format::gpg_key_file;
  finding.rule = "private-key/gpg-key-file";
  finding.identity = key_identity(key);
  if (finding.identity.empty()) finding.identity = "blob:" + sha256_hex(data);
  finding.key = std::move(key);
  return finding;
}

}  // namespace keyward::scanner::detail
