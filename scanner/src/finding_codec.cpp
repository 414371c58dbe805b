// SPDX-License-Identifier: Apache-2.0
#include "finding_codec.hpp"

#include <concepts>
#include <limits>
#include <type_traits>

namespace keyward::scanner::detail {
namespace {

// A field added to one of these structs changes its size (on x86-64 with libstdc++, where
// keyward is built and tested): add it to walk() below and to the
// round trip in tests/scanner/finding_codec_test.cpp, then update the size here.
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(Finding) == 1528 && sizeof(KeyFacts) == 336 && sizeof(CertFacts) == 376 &&
                  sizeof(StoreFacts) == 168 && sizeof(StoreEntry) == 784 && sizeof(Location) == 112 &&
                  sizeof(FileFacts) == 64 && sizeof(Protection) == 80 && sizeof(RiskFacts) == 96 &&
                  sizeof(RiskFactor) == 72 && sizeof(GitFacts) == 40 && sizeof(Suppression) == 64,
              "a findings struct changed: update the cache codec (finding_codec.cpp)");
#endif

template <class S, class T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

// The one field order, for encoding (S const) and decoding alike.
template <class IO, Is<Location> S>
void walk(IO& io, S& l) {
  io(l.path), io(l.member), io(l.line), io(l.offset), io(l.host);
}
template <class IO, Is<FileFacts> S>
void walk(IO& io, S& f) {
  io(f.mode), io(f.uid), io(f.gid), io(f.owner), io(f.size), io(f.mtime);
}
template <class IO, Is<Protection> S>
void walk(IO& io, S& p) {
  io(p.cipher), io(p.kdf), io(p.kdf_iterations);
}
template <class IO, Is<KeyFacts> S>
void walk(IO& io, S& k) {
  io(k.algorithm), io(k.bits), io(k.curve), io(k.encrypted), io(k.protection), io(k.weak_password),
      io(k.password_exposed_in), io(k.spki_sha256), io(k.ssh_fingerprint), io(k.pgp_fingerprint), io(k.comment);
}
template <class IO, Is<CertFacts> S>
void walk(IO& io, S& c) {
  io(c.subject), io(c.issuer), io(c.serial), io(c.not_before), io(c.not_after), io(c.self_signed), io(c.is_ca),
      io(c.key_usage), io(c.extended_key_usage), io(c.signature_algorithm), io(c.sha256), io(c.spki_sha256),
      io(c.key_algorithm), io(c.key_bits), io(c.key_curve), io(c.trust_store), io(c.der);
}
template <class IO, Is<StoreEntry> S>
void walk(IO& io, S& e) {
  io(e.kind), io(e.alias), io(e.key), io(e.certificate), io(e.chain_length), io(e.created);
}
template <class IO, Is<StoreFacts> S>
void walk(IO& io, S& s) {
  io(s.opened), io(s.weak_password), io(s.password_exposed_in), io(s.mac), io(s.mac_iterations), io(s.encryption),
      io(s.weaknesses), io(s.contents), io(s.truststore), io(s.certificates);
}
template <class IO, Is<RiskFactor> S>
void walk(IO& io, S& r) {
  io(r.id), io(r.points), io(r.why);
}
template <class IO, Is<RiskFacts> S>
void walk(IO& io, S& r) {
  io(r.score), io(r.raw), io(r.severity), io(r.factors), io(r.remediation);
}
template <class IO, Is<GitFacts> S>
void walk(IO& io, S& g) {
  io(g.commit), io(g.author_date);
}
template <class IO, Is<Suppression> S>
void walk(IO& io, S& s) {
  io(s.kind), io(s.justification);
}
template <class IO, Is<Finding> S>
void walk(IO& io, S& f) {
  io(f.id), io(f.rule), io(f.kind), io(f.format), io(f.encoding), io(f.location), io(f.file), io(f.key),
      io(f.certificate), io(f.store), io(f.entries), io(f.paired_with), io(f.git), io(f.risk), io(f.suppressed),
      io(f.identity), io(f.relative_path), io(f.trailing_bytes);
}

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

struct Encoder {
  std::string& out;

  template <class T>
  void operator()(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      put_string(out, v);
    } else if constexpr (std::is_same_v<T, bool>) {
      out.push_back(v ? 1 : 0);
    } else if constexpr (std::is_enum_v<T>) {
      put_uint(out, static_cast<std::uint64_t>(v));
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      const auto s = static_cast<std::int64_t>(v);  // zigzag: small negatives stay short
      put_uint(out, (static_cast<std::uint64_t>(s) << 1) ^ static_cast<std::uint64_t>(s >> 63));
    } else if constexpr (std::is_integral_v<T>) {
      put_uint(out, v);
    } else if constexpr (IsOptional<T>::value) {
      out.push_back(v ? 1 : 0);
      if (v) (*this)(*v);
    } else if constexpr (IsVector<T>::value) {
      put_uint(out, v.size());
      for (const auto& x : v) (*this)(x);
    } else {
      walk(*this, v);
    }
  }
};

struct Decoder {
  std::string_view& in;
  bool ok = true;

  bool byte(std::uint8_t& b) {
    if (!ok || in.empty()) return ok = false;
    b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    return true;
  }
  bool flag(bool& v) {
    std::uint8_t b = 0;
    if (!byte(b) || b > 1) return ok = false;
    v = b == 1;
    return true;
  }

  template <class T>
  void operator()(T& v) {
    if (!ok) return;
    if constexpr (std::is_same_v<T, std::string>) {
      ok = get_string(in, v);
    } else if constexpr (std::is_same_v<T, bool>) {
      flag(v);
    } else if constexpr (std::is_enum_v<T>) {
      std::uint64_t u = 0;
      ok = get_uint(in, u);
      v = static_cast<T>(u);
      ok = ok && u <= 0xffff && to_string(v) != "unknown";
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      std::uint64_t u = 0;
      ok = get_uint(in, u);
      const auto s = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
      ok = ok && s >= std::numeric_limits<T>::min() && s <= std::numeric_limits<T>::max();
      v = static_cast<T>(s);
    } else if constexpr (std::is_integral_v<T>) {
      std::uint64_t u = 0;
      ok = get_uint(in, u) && u <= std::numeric_limits<T>::max();
      v = static_cast<T>(u);
    } else if constexpr (IsOptional<T>::value) {
      bool present = false;
      if (!flag(present)) return;
      if (!present) {
        v.reset();
        return;
      }
      (*this)(v.emplace());
    } else if constexpr (IsVector<T>::value) {
      std::uint64_t n = 0;
      // Each element takes at least one byte: a count beyond what is left is damage. Elements
      // are added as they decode, never allocated from the count: memory follows what decodes.
      if (!get_uint(in, n) || n > in.size()) {
        ok = false;
        return;
      }
      v.clear();
      for (std::uint64_t i = 0; i < n && ok; ++i) (*this)(v.emplace_back());
    } else {
      walk(*this, v);
    }
  }
};

}  // namespace

void put_uint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_uint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && b > 1) return false;  // more than 64 bits
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

void put_string(std::string& out, std::string_view s) {
  put_uint(out, s.size());
  out.append(s);
}

bool get_string(std::string_view& in, std::string& s) {
  std::uint64_t n = 0;
  if (!get_uint(in, n) || n > in.size()) return false;
  s.assign(in.substr(0, static_cast<std::size_t>(n)));
  in.remove_prefix(static_cast<std::size_t>(n));
  return true;
}

void encode_finding(const Finding& f, std::string& out) {
  Encoder e{out};
  e(f);
}

bool decode_finding(std::string_view& in, Finding& f) {
  Decoder d{in};
  d(f);
  return d.ok;
}

}  // namespace keyward::scanner::detail
