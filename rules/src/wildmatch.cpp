// SPDX-License-Identifier: Apache-2.0
// A port of git's wildmatch.c (Rich Salz's wildmat, extended by Wayne Davison for rsync and by
// git for "**"), kept close to the original so its behaviour (and git check-ignore's) holds; its
// bracket expression and character classes are functions of their own here.
#include "wildmatch.hpp"

#include <cctype>
#include <cstring>

namespace keyward::rules::detail {
namespace {

enum : int { kNoMatch = 1, kMatch = 0, kAbortAll = -1, kAbortToStarStar = -2 };

using uchar = unsigned char;

bool is_glob_special(uchar c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

bool cc_eq(const uchar* s, int len, const char* name) {
  return static_cast<int>(std::strlen(name)) == len && std::strncmp(reinterpret_cast<const char*>(s), name, len) == 0;
}

// Steps left before a match gives up (as no match): a bound on pathological patterns. A step is
// one call or one character compared, so a match costs a few milliseconds at most; a pattern
// with many stars against a long path took seconds when only calls were counted
// (ignore_file_fuzzer).
struct Budget {
  long steps = 1000000;
  bool spent() { return --steps < 0; }
};

// Whether c is in the POSIX class named s[0..len) ("alnum", ...): 1 or 0; -1 for no such class.
int char_class(const uchar* s, int len, int c) {
  if (cc_eq(s, len, "alnum")) return std::isalnum(c) ? 1 : 0;
  if (cc_eq(s, len, "alpha")) return std::isalpha(c) ? 1 : 0;
  if (cc_eq(s, len, "blank")) return (c == ' ' || c == '\t') ? 1 : 0;
  if (cc_eq(s, len, "cntrl")) return std::iscntrl(c) ? 1 : 0;
  if (cc_eq(s, len, "digit")) return std::isdigit(c) ? 1 : 0;
  if (cc_eq(s, len, "graph")) return std::isgraph(c) ? 1 : 0;
  if (cc_eq(s, len, "lower")) return std::islower(c) ? 1 : 0;
  if (cc_eq(s, len, "print")) return std::isprint(c) ? 1 : 0;
  if (cc_eq(s, len, "punct")) return std::ispunct(c) ? 1 : 0;
  if (cc_eq(s, len, "space")) return std::isspace(c) ? 1 : 0;
  if (cc_eq(s, len, "upper")) return std::isupper(c) ? 1 : 0;
  if (cc_eq(s, len, "xdigit")) return std::isxdigit(c) ? 1 : 0;
  return -1;
}

// dowild's case '[': the bracket expression at p (on its '['), against t_ch. kMatch with p left
// on its ']', kNoMatch, or kAbortAll when the expression is malformed.
int bracket(const uchar*& p, uchar t_ch, bool pathname) {
  uchar p_ch = *++p;
  if (p_ch == '^') p_ch = '!';
  const int negated = p_ch == '!' ? 1 : 0;
  if (negated) p_ch = *++p;
  uchar prev_ch = 0;
  int matched = 0;
  do {
    if (!p_ch) return kAbortAll;
    if (p_ch == '\\') {
      p_ch = *++p;
      if (!p_ch) return kAbortAll;
      if (t_ch == p_ch) matched = 1;
    } else if (p_ch == '-' && prev_ch && p[1] && p[1] != ']') {
      p_ch = *++p;
      if (p_ch == '\\') {
        p_ch = *++p;
        if (!p_ch) return kAbortAll;
      }
      if (t_ch <= p_ch && t_ch >= prev_ch) matched = 1;
      p_ch = 0;  // so prev_ch becomes 0
    } else if (p_ch == '[' && p[1] == ':') {
      const uchar* s;
      int i;
      for (s = p += 2; (p_ch = *p) && p_ch != ']'; p++) {
      }
      if (!p_ch) return kAbortAll;
      i = static_cast<int>(p - s - 1);
      if (i < 0 || p[-1] != ':') {
        // No ":]": a plain '[' in the set.
        p = s - 2;
        p_ch = '[';
        if (t_ch == p_ch) matched = 1;
        continue;
      }
      const int in_class = char_class(s, i, t_ch);
      if (in_class < 0) return kAbortAll;  // malformed [:class:]
      matched |= in_class;
      p_ch = 0;
    } else if (t_ch == p_ch) {
      matched = 1;
    }
  } while (prev_ch = p_ch, (p_ch = *++p) != ']');
  if (matched == negated || (pathname && t_ch == '/')) return kNoMatch;
  return kMatch;
}

int dowild(const uchar* p, const uchar* text, bool pathname, Budget& budget) {
  if (budget.spent()) return kAbortAll;
  const uchar* pattern = p;
  uchar p_ch;
  for (; (p_ch = *p) != '\0'; text++, p++) {
    if (budget.spent()) return kAbortAll;
    int matched, match_slash;
    uchar t_ch;
    if ((t_ch = *text) == '\0' && p_ch != '*') return kAbortAll;
    switch (p_ch) {
      case '\\':
        // Literal match with the next character (a trailing '\' matches nothing: t_ch != '\0').
        p_ch = *++p;
        [[fallthrough]];
      default:
        if (t_ch != p_ch) return kNoMatch;
        continue;
      case '?':
        if (pathname && t_ch == '/') return kNoMatch;
        continue;
      case '*':
        if (*++p == '*') {
          const uchar* prev_p = p - 2;
          while (*++p == '*') {
          }
          if ((prev_p < pattern || *prev_p == '/') && (*p == '\0' || *p == '/' || (p[0] == '\\' && p[1] == '/'))) {
            // "**/" may match nothing: try the rest against the text as it is.
            if (p[0] == '/' && dowild(p + 1, text, pathname, budget) == kMatch) return kMatch;
            match_slash = 1;
          } else {
            match_slash = pathname ? 0 : 1;
          }
        } else {
          match_slash = pathname ? 0 : 1;
        }
        if (*p == '\0') {
          // Trailing "**" matches everything; trailing "*" only when no '/' is left.
          if (!match_slash && std::strchr(reinterpret_cast<const char*>(text), '/') != nullptr) return kNoMatch;
          return kMatch;
        } else if (!match_slash && *p == '/') {
          // One '*' then '/': matches up to the next '/'.
          const char* slash = std::strchr(reinterpret_cast<const char*>(text), '/');
          if (slash == nullptr) return kNoMatch;
          text = reinterpret_cast<const uchar*>(slash);
          break;  // the loop consumes the '/' of both
        }
        while (true) {
          if (t_ch == '\0') break;
          // Skip ahead to the next occurrence of a literal that follows the star.
          if (!is_glob_special(*p)) {
            p_ch = *p;
            while ((t_ch = *text) != '\0' && (match_slash || t_ch != '/')) {
              if (t_ch == p_ch || budget.spent()) break;
              text++;
            }
            if (t_ch != p_ch) return kNoMatch;
          }
          if ((matched = dowild(p, text, pathname, budget)) != kNoMatch) {
            if (!match_slash || matched != kAbortToStarStar) return matched;
          } else if (!match_slash && t_ch == '/') {
            return kAbortToStarStar;
          }
          t_ch = *++text;
        }
        return kAbortAll;
      case '[': {
        const int r = bracket(p, t_ch, pathname);
        if (r != kMatch) return r;
        continue;
      }
    }
  }
  return *text ? kNoMatch : kMatch;
}

}  // namespace

std::optional<bool> wildmatch_within_budget(const std::string& pattern, const std::string& text, bool pathname) {
  Budget budget;
  const int r = dowild(reinterpret_cast<const uchar*>(pattern.c_str()), reinterpret_cast<const uchar*>(text.c_str()),
                       pathname, budget);
  if (budget.steps < 0) return std::nullopt;
  return r == kMatch;
}

bool wildmatch(const std::string& pattern, const std::string& text, bool pathname) {
  return wildmatch_within_budget(pattern, text, pathname).value_or(false);
}

std::string collapse_double_stars(std::string pattern) {
  // "**/**/" matches what "**/" matches (zero or more directories), at any depth of repetition.
  for (std::size_t at = pattern.find("**/**/"); at != std::string::npos; at = pattern.find("**/**/", at)) {
    const bool starts_segment = at == 0 || pattern[at - 1] == '/';
    if (!starts_segment) {
      ++at;
      continue;
    }
    pattern.erase(at, 3);
  }
  while (pattern.size() >= 5 && pattern.compare(pattern.size() - 5, 5, "**/**") == 0 &&
         (pattern.size() == 5 || pattern[pattern.size() - 6] == '/'))
    pattern.erase(pattern.size() - 3);  // trailing "**/**" is "**"
  return pattern;
}

}  // namespace keyward::rules::detail
