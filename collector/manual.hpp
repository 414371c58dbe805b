// SPDX-License-Identifier: Apache-2.0
// keyward-collector(8)'s hand-written sections; the rest of the page comes from the commands.
#pragma once

#include <keyward/common/cli_docs.hpp>

namespace keyward::collector {

const cli_docs::Manual& manual();

// The top-level --help footer, from the same text.
std::string help_footer();

}  // namespace keyward::collector
