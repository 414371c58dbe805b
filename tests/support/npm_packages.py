# SPDX-License-Identifier: Apache-2.0
"""Whether the browser tests' npm packages are here (the ctest fixture browser.npm installs them
from tests/browser/package-lock.json), and what to do when they are not.

Where the npm registry cannot be reached (no network, or a network that intercepts TLS with a CA
this root does not trust, as in a brand-new chroot), browser.npm is skipped with its reason and
so are the tests that need its packages: ctest lists them as Skipped (exit 77), never as passed.
KEYWARD_REQUIRE_BROWSER=1 (set by .ci/run) turns a skip into a failure.
"""
from __future__ import annotations

import os
import sys

SKIP = 77


def missing(path: str, who: str) -> int | None:
    """None when `path` exists; else prints why and returns 77 (skip) or 1 (required)."""
    if os.path.exists(path):
        return None
    required = os.environ.get("KEYWARD_REQUIRE_BROWSER") == "1"
    print(f"{who}: {'FAIL' if required else 'SKIP'}: {path} is missing: the npm packages of "
          "tests/browser/package-lock.json are not installed (see the browser.npm test's output)",
          file=sys.stderr)
    return 1 if required else SKIP
