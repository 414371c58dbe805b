#include <keyward/reporters/csv.hpp>

#include <stdexcept>

namespace keyward::reporters {
std::string render_csv(const ReportInput&) { throw std::logic_error("csv: not written yet"); }
}  // namespace keyward::reporters
namespace keyward::reporters {
const std::vector<std::string_view>& csv_columns() { static const std::vector<std::string_view> c; return c; }
}  // namespace keyward::reporters
