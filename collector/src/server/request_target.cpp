// SPDX-License-Identifier: Apache-2.0
#include "server/request_target.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace keyward::collector {

std::optional<RequestTarget> parse_request_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view& url = *parsed;
  RequestTarget t;
  t.path = std::string(url.encoded_path());
  while (t.path.size() > 1 && t.path.back() == '/') t.path.pop_back();
  for (std::string segment : url.segments()) t.segments.push_back(std::move(segment));
  // "/a/b/" names the same resource as "/a/b".
  while (!t.segments.empty() && t.segments.back().empty()) t.segments.pop_back();
  for (const auto& param : url.params(boost::urls::encoding_opts(/*space_as_plus=*/true))) {
    if (param.key.empty() && !param.has_value) continue;  // "a=1&&b=2"
    t.query[param.key] = param.value;
  }
  return t;
}

bool match_path_template(std::string_view path_template, const std::vector<std::string>& segments, PathParams* params) {
  if (path_template.empty() || path_template.front() != '/') return false;
  std::string_view rest = path_template.substr(1);
  std::size_t i = 0;
  PathParams found;
  for (; !rest.empty(); ++i) {
    const auto slash = rest.find('/');
    const std::string_view want = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (i >= segments.size()) return false;
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      found.emplace(std::string(want.substr(1, want.size() - 2)), segments[i]);
    } else if (want != segments[i]) {
      return false;
    }
  }
  if (i != segments.size()) return false;
  if (params != nullptr) *params = std::move(found);
  return true;
}

}  // namespace keyward::collector
