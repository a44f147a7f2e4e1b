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
)
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer


def words(fmt: str, value, little_word_order: bool = False) -> list[int]:
    raw = struct.pack(">" + fmt, value)
    ws = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return ws[::-1] if little_word_order else ws


# address -> words; keep in sync with tests/modbus_pymodbus.rs
HOLDING = (
    words("f", 123.25)  # 0-1  f32 big word order
    + words("f", -45.5, True)  # 2-3  f32 little word order
    + words("H", 65000)  # 4    u16
    + words("h", -1234)  # 5    i16
    + words("I", 3_000_000_000)  # 6-7  u32
    + words("i", -100_000)  # 8-9  i32
    + words("d", 12345.678)  # 10-13 f64
    + words("i", -7, True)  # 14-15 i32 little word order
)
INPUT = words("h", 215) + words("H", 5000)  # 0: 21.5 degC x10, 1: 50.00 Hz x100
COILS = [True, False, True, True]
DISCRETE = [False, True]


def context() -> ModbusServerContext:
    # pymodbus' sequential blocks are 1-based internally: start at 1 so that
    # protocol address 0 is the first value.
    device = ModbusDeviceContext(
        hr=ModbusSequentialDataBlock(1, HOLDING),
        ir=ModbusSequentialDataBlock(1, INPUT),
        co=ModbusSequentialDataBlock(1, COILS),
        di=ModbusSequentialDataBlock(1, DISCRETE),
    )
    return ModbusServerContext(devices={1: device})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int, help="TCP port (0 = pick a free one)")
    ap.add_argument("--serial", help="serial device for Modbus RTU")
    ap.add_argument("--baud", type=int, default=19200)
    args = ap.parse_args()

    if args.serial:
        server = ModbusSerialServer(
            context(), framer=FramerType.RTU, port=args.serial, baudrate=args.baud
        )
        address = args.serial
    else:
        port = args.tcp or free_port()
        server = ModbusTcpServer(context(), address=("127.0.0.1", port))
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
