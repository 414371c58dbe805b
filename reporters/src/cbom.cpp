#include <keyward/reporters/cbom.hpp>

#include <stdexcept>

namespace keyward::reporters {
std::string render_cbom(const ReportInput&) { throw std::logic_error("cbom: not written yet"); }
}  // namespace keyward::reporters
