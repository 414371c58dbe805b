#include <keyward/reporters/html.hpp>

#include <stdexcept>

namespace keyward::reporters {
std::string render_html(const ReportInput&) { throw std::logic_error("html: not written yet"); }
}  // namespace keyward::reporters
