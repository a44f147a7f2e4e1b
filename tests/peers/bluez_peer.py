#!/usr/bin/env python3
"""A BlueZ stand-in for the Bluetooth LE tests: no radio, no kernel Bluetooth.

Starts a private D-Bus bus (dbus-daemon with a config allowing everything)
that the agent uses as its system bus (DBUS_SYSTEM_BUS_ADDRESS), and serves
org.bluez on it: python-dbusmock's bluez5 template for the adapter (hci0),
plus devices with GATT objects following BlueZ's documented D-Bus API
(doc/org.bluez.Device.rst, org.bluez.GattService.rst,
org.bluez.GattCharacteristic.rst): Device1 with Connect / Disconnect that
set Connected and ServicesResolved, GattService1, GattCharacteristic1 with
ReadValue, WriteValue, StartNotify, StopNotify, and notifications as
PropertiesChanged on Value.

Two kinds of device:
  ess   Environmental Sensing Service 0x181A (temperature 0x2A6E,
        humidity 0x2A6F, pressure 0x2A6D) + Battery Service 0x180F.
  uart  Nordic UART Service bridge in front of a tiny SCPI responder.

Prints one JSON line {"bus": ADDRESS, "control": PORT} on stdout, then
serves a control socket on 127.0.0.1:PORT: one JSON object per line in,
one JSON reply per line out ({"ok": true, ...} or {"ok": false, "error"}).
Commands (see handle()): add_ess, add_uart, set, notify, burst, lose,
readd, uart_lines, notifying. Exits when stdin closes (the test ended).
"""

import ctypes
import json
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import dbus
import dbus.mainloop.glib
import dbusmock
from dbusmock import OBJECT_MANAGER_IFACE
from dbusmock import mockobject

# dbus-python's GLib main loop, driven through libglib as dbusmock itself does
# (no PyGObject needed).
LIBGLIB = ctypes.cdll.LoadLibrary("libglib-2.0.so.0")
WORK = queue.Queue()


def on_main(fn):
    """Runs fn on the main loop's thread (dbus-python is not thread safe) and returns its result."""
    done, out = threading.Event(), {}

    def run():
        try:
            out["v"] = fn()
        except Exception as e:  # noqa: BLE001 - handed back to the caller
            out["e"] = e
        done.set()

    WORK.put(run)
    LIBGLIB.g_main_context_wakeup(None)
    done.wait()
    if "e" in out:
        raise out["e"]
    return out["v"]

DEVICE_IFACE = "org.bluez.Device1"
SERVICE_IFACE = "org.bluez.GattService1"
CHAR_IFACE = "org.bluez.GattCharacteristic1"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
ADAPTER = "hci0"
ADAPTER_PATH = "/org/bluez/" + ADAPTER


def sig(short):
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


ESS, BATTERY = sig(0x181A), sig(0x180F)
NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

# channel -> (service, characteristic uuid, struct format, scale)
ESS_CHARS = {
    "temperature": (ESS, sig(0x2A6E), "<h", 0.01),
    "humidity": (ESS, sig(0x2A6F), "<H", 0.01),
    "pressure": (ESS, sig(0x2A6D), "<I", 0.1),
    "battery": (BATTERY, sig(0x2A19), "<B", 1),
}

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def byte_array(data):
    return dbus.Array([dbus.Byte(b) for b in data], signature="y")


def encode(channel, value):
    _, _, fmt, scale = ESS_CHARS[channel]
    return struct.pack(fmt, int(round(value / scale)))


class BluezObject(mockobject.DBusMockObject):
    """A mock object whose introspection lists its interfaces before its child
    nodes, as BlueZ's does: dbusmock appends property-only interfaces (GattService1)
    after the nodes, which strict parsers (bluez-async's) refuse."""

    @dbus.service.method(dbus.INTROSPECTABLE_IFACE, in_signature="", out_signature="s",
                         path_keyword="object_path", connection_keyword="connection")
    def Introspect(self, object_path, connection):
        tree = ET.fromstring(mockobject.DBusMockObject.Introspect(self, object_path, connection))
        nodes = [n for n in tree if n.tag == "node"]
        for n in nodes:
            tree.remove(n)
            tree.append(n)
        return ET.tostring(tree, encoding="unicode")


class Peer:
    def __init__(self, bus):
        self.bus = bus
        self.main = mockobject.objects["/"]
        self.devices = {}  # address -> dict(kind, name, params, path, chars)
        self.gone = {}  # devices lost (out of range), by their old address

    # ---- D-Bus objects -------------------------------------------------
    def _add(self, path, iface, props, methods):
        self.main.AddObject(path, iface, props, methods, mock_class=BluezObject)
        self.main.EmitSignal(
            OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}", [dbus.ObjectPath(path), {iface: props}]
        )
        return mockobject.objects[path]

    def add_device(self, kind, name, address, params):
        if address in self.devices:
            raise ValueError(f"device {address} exists")
        path = f"{ADAPTER_PATH}/dev_{address.replace(':', '_').upper()}"
        uuids = [ESS, BATTERY] if kind == "ess" else [NUS]
        dev = {"kind": kind, "name": name, "params": params, "path": path, "chars": {}, "lines": [], "rx": b""}
        self.devices[address] = dev
        props = {
            "Address": dbus.String(address),
            "AddressType": dbus.String("random"),
            "Name": dbus.String(name),
            "Alias": dbus.String(name),
            "Adapter": dbus.ObjectPath(ADAPTER_PATH),
            "UUIDs": dbus.Array(uuids, signature="s"),
            "Paired": dbus.Boolean(False),
            "Bonded": dbus.Boolean(False),
            "Connected": dbus.Boolean(False),
            "Trusted": dbus.Boolean(False),
            "Blocked": dbus.Boolean(False),
            "LegacyPairing": dbus.Boolean(False),
            "ServicesResolved": dbus.Boolean(False),
            "RSSI": dbus.Int16(params.get("rssi", -60)),
            "TxPower": dbus.Int16(0),
            "Appearance": dbus.UInt16(0),
            "ManufacturerData": dbus.Dictionary({}, signature="qv"),
            "ServiceData": dbus.Dictionary({}, signature="sv"),
        }

        def connect(obj):
            obj.UpdateProperties(DEVICE_IFACE, {"Connected": dbus.Boolean(True), "ServicesResolved": dbus.Boolean(True)})

        def disconnect(obj):
            obj.UpdateProperties(DEVICE_IFACE, {"ServicesResolved": dbus.Boolean(False), "Connected": dbus.Boolean(False)})

        # GATT objects first: BlueZ exports them before ServicesResolved.
        if kind == "ess":
            svc_paths = {}
            handle = 0x10
            for svc in (ESS, BATTERY):
                spath = f"{path}/service{handle:04x}"
                handle += 1
                svc_paths[svc] = spath
                self._add(spath, SERVICE_IFACE, {
                    "UUID": dbus.String(svc), "Primary": dbus.Boolean(True),
                    "Device": dbus.ObjectPath(path), "Includes": dbus.Array([], signature="o"),
                }, [])
            notify = set(params.get("notify", []))
            for channel, (svc, cuuid, _, _) in ESS_CHARS.items():
                if channel not in params:
                    continue
                flags = ["read"] + (["notify"] if channel in notify else [])
                cpath = f"{svc_paths[svc]}/char{handle:04x}"
                handle += 2
                dev["chars"][channel] = self._add_char(cpath, svc_paths[svc], cuuid, flags, encode(channel, params[channel]))
        else:
            spath = f"{path}/service0010"
            self._add(spath, SERVICE_IFACE, {
                "UUID": dbus.String(NUS), "Primary": dbus.Boolean(True),
                "Device": dbus.ObjectPath(path), "Includes": dbus.Array([], signature="o"),
            }, [])
            dev["chars"]["tx"] = self._add_char(f"{spath}/char0011", spath, NUS_TX, ["notify"], b"")
            dev["chars"]["rx"] = self._add_char(
                f"{spath}/char0014", spath, NUS_RX, ["write", "write-without-response"], b"",
                on_write=lambda data, dev=dev: self.uart_write(dev, data))
        self._add(path, DEVICE_IFACE, props, [
            ("Connect", "", "", connect),
            ("Disconnect", "", "", disconnect),
            ("Pair", "", "", ""),
            ("CancelPairing", "", "", ""),
            ("ConnectProfile", "s", "", ""),
            ("DisconnectProfile", "s", "", ""),
        ])
        return path

    def _add_char(self, cpath, spath, cuuid, flags, value, on_write=None):
        def read_value(obj, _options):
            return obj.props[CHAR_IFACE]["Value"]

        def write_value(obj, value, _options):
            if on_write is None:
                raise dbus.exceptions.DBusException("Write not permitted", name="org.bluez.Error.NotPermitted")
            on_write(bytes(value))

        def start_notify(obj):
            if "notify" not in flags:
                raise dbus.exceptions.DBusException("Operation is not supported", name="org.bluez.Error.NotSupported")
            obj.UpdateProperties(CHAR_IFACE, {"Notifying": dbus.Boolean(True)})

        def stop_notify(obj):
            obj.UpdateProperties(CHAR_IFACE, {"Notifying": dbus.Boolean(False)})

        return self._add(cpath, CHAR_IFACE, {
            "UUID": dbus.String(cuuid),
            "Service": dbus.ObjectPath(spath),
            "Value": byte_array(value),
            "Flags": dbus.Array(flags, signature="s"),
            "Notifying": dbus.Boolean(False),
            "MTU": dbus.UInt16(23),
        }, [
            ("ReadValue", "a{sv}", "ay", read_value),
            ("WriteValue", "aya{sv}", "", write_value),
            ("StartNotify", "", "", start_notify),
            ("StopNotify", "", "", stop_notify),
        ])

    def push(self, char, data):  # noqa: D401
        """A notification (or, when not notifying, just a new value): PropertiesChanged on Value."""
        char.UpdateProperties(CHAR_IFACE, {"Value": byte_array(data)})

    # ---- the SCPI responder behind the UART bridge ----------------------
    def uart_write(self, dev, data):
        dev["rx"] += data
        while b"\n" in dev["rx"]:
            line, dev["rx"] = dev["rx"].split(b"\n", 1)
            line = line.decode("utf-8", "replace").strip()
            dev["lines"].append(line)
            reply = self.scpi_reply(dev, line)
            if reply is not None:
                out = (reply + "\n").encode()
                tx = dev["chars"]["tx"]
                # As a real bridge does: one notification per MTU-sized piece.
                for i in range(0, len(out), 20):
                    self.push(tx, out[i:i + 20])

    def scpi_reply(self, dev, line):
        replies = dev["params"].get("replies", {})
        key = line.upper()
        if key == "*IDN?":
            return dev["params"].get("idn", "MeterDeck,BLE-BRIDGE,0001,1.0")
        if key in (":SYSTEM:ERROR?", ":SYST:ERR?", ":ERROR?", ":ERR?"):
            return '0,"No error"'
        for q, r in replies.items():
            if q.upper() == key:
                return str(r)
        if key.endswith("?"):
            return None
        return None

    # ---- control ---------------------------------------------------------
    def remove(self, address):
        dev = self.devices.pop(address)
        path = dev["path"]
        obj = mockobject.objects[path]
        if obj.props[DEVICE_IFACE].get("Connected"):
            # Out of range: BlueZ reports the link gone first.
            obj.UpdateProperties(DEVICE_IFACE, {"ServicesResolved": dbus.Boolean(False), "Connected": dbus.Boolean(False)})
        for p in sorted([p for p in mockobject.objects if p.startswith(path + "/")], reverse=True):
            self.main.RemoveObject(p)
        self.main.RemoveObject(path)
        self.main.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                             [dbus.ObjectPath(path), [DEVICE_IFACE]])
        self.gone[address] = dev
        return dev

    def char(self, address, channel):
        dev = self.devices.get(address)
        if dev is None:
            raise ValueError(f"no device {address}")
        c = dev["chars"].get(channel)
        if c is None:
            raise ValueError(f"device {address} has no {channel}")
        return c

    def handle(self, req):
        """Runs on a control thread; every D-Bus step goes through on_main()."""
        cmd = req.get("cmd")
        if cmd in ("add_ess", "add_uart"):
            kind = "ess" if cmd == "add_ess" else "uart"
            params = {k: v for k, v in req.items() if k not in ("cmd", "name", "address")}
            return {"ok": True, "path": on_main(lambda: self.add_device(kind, req["name"], req["address"], params))}
        if cmd in ("set", "notify"):
            data = bytes.fromhex(req["raw"]) if "raw" in req else encode(req["channel"], req["value"])

            def act():
                c = self.char(req["address"], req["channel"])
                if cmd == "set":
                    # A new value without a notification (read-only characteristics).
                    c.props[CHAR_IFACE]["Value"] = byte_array(data)
                    return None
                t = time.time_ns()
                self.push(c, data)
                return t

            return {"ok": True, "t_ns": on_main(act)}
        if cmd == "burst":
            # `count` notifications at `rate` per second: start, start+0.01, ...
            channel = req.get("channel", "temperature")
            count, period = int(req["count"]), 1.0 / float(req["rate"])
            start = float(req.get("start", 0.0))
            c = on_main(lambda: self.char(req["address"], channel))
            sent = []
            t0 = time.monotonic()
            for i in range(count):
                value = round(start + i * 0.01, 2)
                data = encode(channel, value)

                def act(data=data):
                    t = time.time_ns()
                    self.push(c, data)
                    return t

                sent.append([value, on_main(act)])
                # Paced against the start, so the rate holds whatever one step costs.
                time.sleep(max(0.0, t0 + (i + 1) * period - time.monotonic()))
            return {"ok": True, "sent": sent}
        if cmd == "lose":
            on_main(lambda: self.remove(req["address"]))
            return {"ok": True}
        if cmd == "readd":
            def act():
                # Back in range (or still here) under a new random address.
                old = req["address"]
                dev = self.remove(old) if old in self.devices else self.gone.pop(old)
                return self.add_device(dev["kind"], dev["name"], req["new_address"], dev["params"])

            return {"ok": True, "path": on_main(act)}
        if cmd == "uart_lines":
            return {"ok": True, "lines": on_main(lambda: list(self.devices[req["address"]]["lines"]))}
        if cmd == "notifying":
            return {"ok": True, "notifying": on_main(
                lambda: bool(self.char(req["address"], req["channel"]).props[CHAR_IFACE]["Notifying"]))}
        raise ValueError(f"unknown command {cmd!r}")


def serve_control(peer, server):
    """One thread per client, one JSON reply per JSON line."""

    def client(conn):
        with conn, conn.makefile("rwb", buffering=0) as f:
            for raw in f:
                try:
                    out = peer.handle(json.loads(raw))
                except Exception as e:  # noqa: BLE001 - every failure is the test's answer
                    out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                f.write((json.dumps(out) + "\n").encode())

    while True:
        conn, _ = server.accept()
        threading.Thread(target=client, args=(conn,), daemon=True).start()


def main():
    tmp = tempfile.mkdtemp(prefix="md-bluez-")
    conf = os.path.join(tmp, "bus.conf")
    with open(conf, "w") as f:
        f.write(CONFIG.format(dir=tmp))
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, text=True)
    address = daemon.stdout.readline().strip()
    try:
        dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
        bus = dbus.bus.BusConnection(address)
        bus_name = dbus.service.BusName("org.bluez", bus, do_not_queue=True)
        main_obj = mockobject.DBusMockObject(
            bus_name, "/", OBJECT_MANAGER_IFACE, {}, os.devnull, True)
        mockobject.objects["/"] = main_obj
        main_obj.AddTemplate("bluez5", dbus.Dictionary({}, signature="sv"))
        main_obj.AddAdapter(ADAPTER, "meterdeck-test")
        peer = Peer(bus)

        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        threading.Thread(target=serve_control, args=(peer, server), daemon=True).start()

        running = [True]

        def watch_stdin():
            # The test holds our stdin: when it goes (test over, or killed), so do we.
            sys.stdin.buffer.read()
            running.clear()
            LIBGLIB.g_main_context_wakeup(None)

        threading.Thread(target=watch_stdin, daemon=True).start()
        print(json.dumps({"bus": address, "control": server.getsockname()[1]}), flush=True)
        while running:
            LIBGLIB.g_main_context_iteration(None, True)
            while not WORK.empty():
                WORK.get()()
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    _ = dbusmock  # the template is found through dbusmock's package
    main()
