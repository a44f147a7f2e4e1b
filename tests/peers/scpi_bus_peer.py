#!/usr/bin/env python3
"""Several addressable SCPI devices on one serial line (RS-485 multi-drop,
as TDK-Lambda Genesys supplies are wired), at the far end of a pty. `ADR n`
selects device n, which answers `OK`; every other device stays silent.
Afterwards only the selected device answers, until the next `ADR`. A
command before any `ADR`, or for an address nobody has, gets no reply.

Each device has its own identity and values (MEAS:VOLT? = n + 0.25,
MEAS:CURR? = n / 8) and a SCPI-99 error queue. Replies come after a short
delay, so that a master that does not wait for them would mix devices up.
Prints `READY <path>` once the line is open.
"""

import argparse
import os
import sys
import termios
import time
import tty


class Device:
    def __init__(self, address: int):
        self.address = address
        self.errors: list[tuple[int, str]] = []

    def answer(self, command: str):
        upper = command.upper()
        if upper == "*IDN?":
            return f"PeerWorks,GEN-{self.address},BUS{self.address:04d},1.0"
        if upper == "*CLS":
            self.errors.clear()
            return None
        if upper in (":SYST:ERR?", ":SYSTEM:ERROR?"):
            code, message = self.errors.pop(0) if self.errors else (0, "No error")
            return f'{code:+d},"{message}"'
        if upper == "MEAS:VOLT?":
            return repr(self.address + 0.25)
        if upper == "MEAS:CURR?":
            return repr(self.address / 8)
        self.errors.append((-113, "Undefined header"))
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serial", required=True, help="the pty (line) the devices hang on")
    parser.add_argument("--addresses", default="6,7", help="device addresses, comma separated")
    parser.add_argument("--delay", type=float, default=0.01, help="seconds before each reply")
    args = parser.parse_args()
    devices = {int(a): Device(int(a)) for a in args.addresses.split(",")}
    fd = os.open(args.serial, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    termios.tcflush(fd, termios.TCIOFLUSH)
    print(f"READY {args.serial}", flush=True)
    selected = None
    buf = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            upper = text.upper()
            if upper.startswith("ADR "):
                try:
                    selected = devices.get(int(upper[4:].strip()))
                except ValueError:
                    selected = None
                reply = "OK" if selected else None
            elif selected is None:
                continue
            else:
                replies = [r for r in (selected.answer(c.strip()) for c in text.split(";") if c.strip()) if r]
                reply = ";".join(replies) if replies else None
            if reply is not None:
                time.sleep(args.delay)
                os.write(fd, (reply + "\n").encode())
    sys.exit(0)


if __name__ == "__main__":
    main()
