#!/usr/bin/env python3
"""Prints, as JSON, the Notify calls the python-dbusmock notification_daemon
on $DBUS_SESSION_BUS_ADDRESS received (through its org.freedesktop.DBus.Mock
interface): [{app_name, replaces_id, icon, summary, body, actions, hints, timeout}]."""

import json

import dbus

bus = dbus.SessionBus()
mock = dbus.Interface(bus.get_object("org.freedesktop.Notifications", "/org/freedesktop/Notifications"), "org.freedesktop.DBus.Mock")
keys = ["app_name", "replaces_id", "icon", "summary", "body", "actions", "hints", "timeout"]


def plain(v):
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (dbus.String, str)):
        return str(v)
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32, dbus.UInt64, int)):
        return int(v)
    if isinstance(v, dbus.Double):
        return float(v)
    return str(v)


calls = [dict(zip(keys, plain(args))) for _t, args in mock.GetMethodCalls("Notify")]
print(json.dumps(calls, ensure_ascii=False))
