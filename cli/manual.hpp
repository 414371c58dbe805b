// SPDX-License-Identifier: Apache-2.0
// keyward(1)'s hand-written sections; the rest of the page comes from the commands themselves.
#pragma once

#include <keyward/common/cli_docs.hpp>

namespace keyward::cli {

const cli_docs::Manual& manual();

// The top-level --help footer, from the same text.
std::string help_footer();

}  // namespace keyward::cli
