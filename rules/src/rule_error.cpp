// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/rule_error.hpp>

#include <utility>

namespace keyward::rules {

RuleError::RuleError(std::string file_, std::uint64_t line_, std::string code_, std::string message_)
    : std::runtime_error(file_ + ":" + std::to_string(line_) + ": " + code_ + ": " + message_),
      file(std::move(file_)),
      line(line_),
      code(std::move(code_)),
      message(std::move(message_)) {}

}  // namespace keyward::rules
