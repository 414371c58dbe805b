#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A SoftHSM2 token in a directory of its own (never the global token directory), for make demo
and the migration integration test (docs/migration.md, "What runs where").

Usage:
  KW_SO_PIN=... KW_PIN=... python3 scripts/softhsm-token.py --dir DIR --label LABEL \
      [--module /usr/lib/softhsm/libsofthsm2.so]

Writes DIR/softhsm2.conf (tokens in DIR/tokens), then initialises one token through PKCS#11
(C_InitToken, C_InitPIN) with the SO PIN and user PIN read from the environment variables
KW_SO_PIN and KW_PIN: softhsm2-util would take them as arguments (visible in /proc/*/cmdline)
or from a terminal. Prints the config path; the caller sets SOFTHSM2_CONF to it.
Exits 0 on success, 2 on any error (the message never holds a PIN).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

CKF_RW_SESSION = 0x2
CKF_SERIAL_SESSION = 0x4
CKU_SO = 0


def check(rv: int, what: str) -> None:
    if rv != 0:
        raise RuntimeError(f"{what} failed: CKR 0x{rv:x}")


def init_token(module: str, label: str, so_pin: bytes, pin: bytes) -> None:
    lib = ctypes.CDLL(module)
    ulong = ctypes.c_ulong
    check(lib.C_Initialize(None), "C_Initialize")
    try:
        count = ulong(0)
        check(lib.C_GetSlotList(ctypes.c_ubyte(1), None, ctypes.byref(count)), "C_GetSlotList")
        slots = (ulong * max(count.value, 1))()
        check(lib.C_GetSlotList(ctypes.c_ubyte(1), slots, ctypes.byref(count)), "C_GetSlotList")
        if count.value == 0:
            raise RuntimeError("the module shows no slot with a token")
        slot = slots[count.value - 1]  # SoftHSM2 keeps its one free slot last
        padded = label.encode().ljust(32, b" ")[:32]
        check(lib.C_InitToken(ulong(slot), so_pin, ulong(len(so_pin)), padded), "C_InitToken")
        session = ulong(0)
        check(lib.C_OpenSession(ulong(slot), ulong(CKF_SERIAL_SESSION | CKF_RW_SESSION), None, None,
                                ctypes.byref(session)), "C_OpenSession")
        check(lib.C_Login(session, ulong(CKU_SO), so_pin, ulong(len(so_pin))), "C_Login (SO)")
        check(lib.C_InitPIN(session, pin, ulong(len(pin))), "C_InitPIN")
        lib.C_Logout(session)
        lib.C_CloseSession(session)
    finally:
        lib.C_Finalize(None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--module", default="/usr/lib/softhsm/libsofthsm2.so")
    args = ap.parse_args()
    so_pin, pin = os.environ.get("KW_SO_PIN", ""), os.environ.get("KW_PIN", "")
    if len(so_pin) < 4 or len(pin) < 4:
        print("softhsm-token: set KW_SO_PIN and KW_PIN (4 characters or more)", file=sys.stderr)
        return 2
    tokens = os.path.join(os.path.abspath(args.dir), "tokens")
    os.makedirs(tokens, mode=0o700, exist_ok=True)
    conf = os.path.join(os.path.abspath(args.dir), "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = conf
    try:
        init_token(args.module, args.label, so_pin.encode(), pin.encode())
    except (OSError, RuntimeError) as e:
        print(f"softhsm-token: {args.module}: {e}", file=sys.stderr)
        return 2
    print(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
