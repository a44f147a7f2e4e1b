#!/usr/bin/env python3
"""A Modbus TCP or RTU device served by pymodbus, an implementation nobody on
this project wrote. The register map below is the contract the Rust tests
check against (tests/modbus_pymodbus.rs). Prints `READY <address>` once it
accepts requests; stops on SIGTERM/SIGINT."""

import argparse
import asyncio
import signal
import socket
import struct
import sys

from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSparseDataBlock,
)
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer


def words(fmt: str, value, little_word_order: bool = False, swap_bytes: bool = False) -> list[int]:
    raw = struct.pack(">" + fmt, value)
    ws = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    if swap_bytes:
        ws = [((w & 0xFF) << 8) | (w >> 8) for w in ws]
    return ws[::-1] if little_word_order else ws


def order(fmt: str, value, name: str) -> list[int]:
    """`value` in byte/word order ABCD, BADC, CDAB or DCBA."""
    return words(fmt, value, little_word_order=name in ("cdab", "dcba"), swap_bytes=name in ("badc", "dcba"))


def text(s: str, n: int, swap_bytes: bool = False) -> list[int]:
    raw = s.encode("ascii").ljust(2 * n, b"\0")
    ws = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, 2 * n, 2)]
    return [((w & 0xFF) << 8) | (w >> 8) for w in ws] if swap_bytes else ws


# address -> words; keep in sync with tests/modbus_pymodbus.rs. Unit 1
# serves these values; unit u serves 123.25 * u at 0 and 65001 - u at 4.
def holding(unit: int) -> list[int]:
    return (
        words("f", 123.25 * unit)  # 0-1  f32 big word order
        + words("f", -45.5, True)  # 2-3  f32 little word order
        + words("H", 65001 - unit)  # 4    u16
        + words("h", -1234)  # 5    i16
        + words("I", 3_000_000_000)  # 6-7  u32
        + words("i", -100_000)  # 8-9  i32
        + words("d", 12345.678)  # 10-13 f64
        + words("i", -7, True)  # 14-15 i32 little word order
        + order("f", 123.25, "badc")  # 16-17
        + order("f", -45.5, "dcba")  # 18-19
        + order("I", 3_000_000_000, "badc")  # 20-21
        + order("i", -100_000, "dcba")  # 22-23
        + order("Q", 1_234_567_890_123, "abcd")  # 24-27 u64
        + order("Q", 1_234_567_890_123, "cdab")  # 28-31
        + order("q", -1_234_567_890_123, "badc")  # 32-35 i64
        + order("q", -9_876_543_210, "dcba")  # 36-39
        + order("d", -0.000123, "cdab")  # 40-43 f64
        + order("d", 98765.4321, "dcba")  # 44-47
        + order("d", 3.5, "badc")  # 48-51
        + [0x1234]  # 52 bcd16 1234
        + [0x0012, 0x3456]  # 53-54 bcd32 123456
        + [0x4321, 0x8765]  # 55-56 bcd32 word-swapped 87654321
        + [0x8005]  # 57 bits 15, 2 and 0 set
        + text("  23.5", 4)  # 58-61 string, a number
        + text("SN-1234", 4)  # 62-65 string, not a number
        + text("-7.25", 3, swap_bytes=True)  # 66-68 string, bytes swapped
        + order("h", -1234, "badc")  # 69 i16 bytes swapped
    )


# Registers 100, 101, 103, 104-105 are mapped, 102 is not: a read across
# 100..105 fails with exception 0x02 (illegal data address).
SPARSE = {100: 111, 101: 222, 103: 444, 104: words("f", 1.5)[0], 105: words("f", 1.5)[1]}

INPUT = words("h", 215) + words("H", 5000)  # 0: 21.5 degC x10, 1: 50.00 Hz x100
COILS = [True, False, True, True]
DISCRETE = [False, True]


def device(unit: int) -> ModbusDeviceContext:
    # pymodbus' sequential blocks are 1-based internally (start at 1 so
    # that protocol address 0 is the first value); its sparse blocks are
    # keyed by the protocol address itself.
    hr = dict(enumerate(holding(unit)))
    hr.update(SPARSE)
    return ModbusDeviceContext(
        hr=ModbusSparseDataBlock(hr),
        ir=ModbusSequentialDataBlock(1, INPUT),
        co=ModbusSequentialDataBlock(1, COILS),
        di=ModbusSequentialDataBlock(1, DISCRETE),
    )


def context(units: list[int]) -> ModbusServerContext:
    return ModbusServerContext(devices={u: device(u) for u in units})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int, help="TCP port (0 = pick a free one)")
    ap.add_argument("--serial", help="serial device for Modbus RTU")
    ap.add_argument("--baud", type=int, default=19200)
    ap.add_argument("--units", default="1", help="unit ids served, e.g. 1,2")
    args = ap.parse_args()
    units = [int(u) for u in args.units.split(",")]

    if args.serial:
        server = ModbusSerialServer(
            context(units), framer=FramerType.RTU, port=args.serial, baudrate=args.baud
        )
        address = args.serial
    else:
        port = args.tcp or free_port()
        server = ModbusTcpServer(context(units), address=("127.0.0.1", port))
        address = f"127.0.0.1:{port}"

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0.3)
    if task.done():
        task.result()
        return 1
    print(f"READY {address}", flush=True)
    await stop.wait()
    await server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
