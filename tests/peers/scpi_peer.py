#!/usr/bin/env python3
"""Line-based SCPI instruments as they really behave, written apart from the
project's simulator (tests/e2e/instrument_quirks.rs checks the agent against
them). Prints `READY <port>` once it accepts connections on 127.0.0.1.

Modes:
  hioki-nr1      a Hioki-style logger (LR8450): `:ERRor?` answers a bare NR1
                 code (`0`: no error); `:SYSTem:ERRor?` is unknown to it.
  hioki-headers  the same logger, but it ignores `:HEADer OFF`: every reply
                 carries its header (`:MEMORY:VREAL CH1_1 +1.234E+00`,
                 `:ERROR 0`).
  hioki-power-headers
                 a Hioki-style power meter (PW3390) answering `:ERRor?` with
                 `:ERROR 0` and every `:MEASure?` item with its header
                 (`U1 +100.02E+0`), ignoring `:HEADer OFF`.
  scpi-refuse    a generic SCPI meter (SCPI-99 error queue) that refuses
                 `MEAS:FOO?` (-113, no reply) and answers the rest.
  oversize       a generic SCPI meter whose first reply to `MEAS:VOLT?` is a
                 100 kB line sent in pieces; later replies are normal.
  stall          a generic SCPI meter that, on the third `MEAS:VOLT?` of its
                 first connection, sends half a reply and then nothing more
                 (the connection stays open); later connections are normal.
"""

import argparse
import asyncio
import signal
import sys

# Logger channels: CH1_1..CH1_2 numbers, CH1_3 "no data", CH1_4 over range.
LOGGER = {
    "CH1_1": "+1.23400E+00",
    "CH1_2": "-2.50000E-01",
    "CH1_3": "+9999.9E+99",
    "CH1_4": "+999.99E+9",
}
# Power meter items: PF1 over range.
POWER = {"U1": "+100.02E+0", "I1": "+2.0000E+0", "P1": "+200.04E+0", "PF1": "+999.99E+9"}
METER = {"MEAS:VOLT?": "+1.50000E+00", "MEAS:CURR?": "+2.50000E-01"}


class Instrument:
    def __init__(self, mode: str, connection: int):
        self.mode = mode
        self.connection = connection
        self.errors: list[tuple[int, str]] = []
        self.volt_queries = 0

    def refuse(self, code: int = -113, message: str = "Undefined header"):
        self.errors.append((code, message))

    def hioki(self, command: str):
        """One command of a line: a reply, or None."""
        upper = command.upper()
        headers = self.mode in ("hioki-headers", "hioki-power-headers")
        power = self.mode == "hioki-power-headers"
        if upper == "*IDN?":
            return "HIOKI,PW3390,PEER0003,V1.30" if power else "HIOKI,LR8450,PEER0001,V3.00"
        if power and (upper.startswith(":MEAS? ") or upper.startswith(":MEASURE? ")):
            items = [i.strip() for i in upper.split(" ", 1)[1].split(",")]
            if any(i not in POWER for i in items):
                self.refuse(-224, "Illegal parameter value")
                return None
            return ";".join(f"{i} {POWER[i]}" for i in items)
        if upper == "*CLS":
            self.errors.clear()
            return None
        if upper.startswith(":HEAD"):
            return None  # hioki-headers: accepted and ignored
        if upper in (":ERR?", ":ERROR?"):
            code = self.errors.pop(0)[0] if self.errors else 0
            return f":ERROR {code}" if headers else str(code)
        if upper in (":MEM:GETR", ":MEMORY:GETREAL"):
            return None
        if upper.startswith(":MEM:VREAL? ") or upper.startswith(":MEMORY:VREAL? "):
            channel = upper.split(" ", 1)[1].strip()
            value = LOGGER.get(channel)
            if value is None:
                self.refuse(-224, "Illegal parameter value")
                return None
            return f":MEMORY:VREAL {channel} {value}" if headers else value
        self.refuse()
        return None

    def scpi(self, command: str):
        upper = command.upper()
        if upper == "*IDN?":
            return "PeerWorks,PM-1,PEER0002,1.0"
        if upper == "*CLS":
            self.errors.clear()
            return None
        if upper in (":SYST:ERR?", ":SYSTEM:ERROR?"):
            code, message = self.errors.pop(0) if self.errors else (0, "No error")
            return f'{code:+d},"{message}"'
        if upper in METER:
            return METER[upper]
        self.refuse()
        return None


async def serve(mode: str):
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        nonlocal connections
        connections += 1
        inst = Instrument(mode, connections)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                text = line.decode("utf-8", "replace").strip()
                if mode in ("oversize", "stall") and text.upper() == "MEAS:VOLT?":
                    inst.volt_queries += 1
                    if mode == "oversize" and inst.connection == 1 and inst.volt_queries == 1:
                        # 100 kB in 1 kB pieces, the end of line last.
                        for _ in range(100):
                            writer.write(b"\x06" * 512 + b"Z" * 512)
                            await writer.drain()
                            await asyncio.sleep(0.002)
                        writer.write(b"\n")
                        await writer.drain()
                        continue
                    if mode == "stall" and inst.connection == 1 and inst.volt_queries == 3:
                        writer.write(b"+1.5")
                        await writer.drain()
                        await asyncio.Event().wait()  # silent, connection open
                answer = inst.hioki if mode.startswith("hioki") else inst.scpi
                replies = [r for r in (answer(c.strip()) for c in text.split(";") if c.strip()) if r is not None]
                if replies:
                    writer.write((";".join(replies) + "\n").encode())
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = ["hioki-nr1", "hioki-headers", "hioki-power-headers", "scpi-refuse", "oversize", "stall"]
    parser.add_argument("--mode", required=True, choices=modes)
    args = parser.parse_args()
    asyncio.run(serve(args.mode))
    sys.exit(0)


if __name__ == "__main__":
    main()
