import { describe, expect, it } from "vitest";
import type { ChannelConfig, InstrumentConfig } from "../src/api";
import {
  applyInstrumentFields,
  channelsText,
  discoveryPorts,
  familyForPort,
  parseChannels,
  setPath,
  splitCsv,
  type FamilyInfo,
} from "../src/families";
import fixture from "../src/fixtures/families.json";

const list = fixture as FamilyInfo[];
const fam = (id: string): FamilyInfo => list.find((f) => f.id === id)!;

describe("families", () => {
  it("the fixture has the registry's shape", () => {
    for (const f of list) {
      expect(f.id).toMatch(/^[a-z0-9-]+$/);
      expect(f.transports.length).toBeGreaterThan(0);
      expect(f.channelFields[0].key).toBe("id");
      for (const x of [...f.channelFields, ...f.instrumentFields]) expect(["text", "integer", "number", "choice"]).toContain(x.kind.type);
    }
  });

  it("splits CSV with quotes", () => {
    expect(splitCsv("a,b,c")).toEqual(["a", "b", "c"]);
    expect(splitCsv('v,V,"MEAS:VOLT:DC? 10,0.001"')).toEqual(["v", "V", "MEAS:VOLT:DC? 10,0.001"]);
    expect(splitCsv('x, "say ""hi""" ,')).toEqual(["x", 'say "hi" ', ""]);
  });

  it("reads the SCPI line the window test types, in the family's columns", () => {
    const scpi = fam("scpi");
    expect(parseChannels(scpi, "vdc,V,MEAS:VOLT:DC?", [])).toEqual([{ id: "vdc", unit: "V", query: "MEAS:VOLT:DC?" }]);
  });

  it("builds Modbus register maps from columns and keeps what the columns do not cover", () => {
    const modbus = fam("modbus");
    const prev: ChannelConfig[] = [{ id: "t", unit: "degC", query: "kept", modbus: { address: 3, kind: "input" }, scale: 0.1 }];
    const keys = modbus.channelFields.map((f) => f.key);
    expect(keys.slice(0, 3)).toEqual(["id", "unit", "modbus.address"]);
    const [t] = parseChannels(modbus, "t,degC,10,,f32", prev);
    // Empty columns (kind, scale) are dropped so the backend's defaults apply;
    // `query` is no column of this family, so the previous value stays.
    expect(t).toEqual({ id: "t", unit: "degC", query: "kept", modbus: { address: 10, data_type: "f32" } });
    const [bad] = parseChannels(modbus, "p,kW,ten", []);
    expect(bad.modbus).toEqual({ address: "ten" });
  });

  it("takes the newer Modbus columns (byte order, string count, bit) after scale and offset", () => {
    const modbus = fam("modbus");
    const keys = modbus.channelFields.map((f) => f.key);
    expect(keys.slice(5)).toEqual(["modbus.word_order", "scale", "offset", "modbus.count", "modbus.bit"]);
    const [p, alarm, text] = parseChannels(modbus, "p,kW,2,input,i16,,0.1\nalarm,,57,,bit,,,,,3\nsn,,58,,string,badc,,,4", []);
    expect(p).toEqual({ id: "p", unit: "kW", modbus: { address: 2, kind: "input", data_type: "i16" }, scale: 0.1 });
    expect(alarm.modbus).toEqual({ address: 57, data_type: "bit", bit: 3 });
    expect(text.modbus).toEqual({ address: 58, data_type: "string", word_order: "badc", count: 4 });
  });

  it("writes channels back as the same text", () => {
    const modbus = fam("modbus");
    const chans: ChannelConfig[] = [
      { id: "p", unit: "kW", modbus: { address: 0, kind: "holding", data_type: "f32", word_order: "abcd" } },
      { id: "raw", modbus: { address: 7 } },
    ];
    const text = channelsText(modbus, chans);
    expect(text.split("\n")[1]).toBe("raw,,7");
    expect(parseChannels(modbus, text, [])).toEqual(chans);
    const scpi = fam("scpi");
    const q: ChannelConfig[] = [{ id: "v", query: "MEAS:VOLT:DC? 10,0.001" }];
    expect(parseChannels(scpi, channelsText(scpi, q), [])).toEqual(q);
  });

  it("sets instrument fields and drops empty ones", () => {
    const modbus = fam("modbus");
    const cfg: InstrumentConfig = { id: "m", family: "modbus", transport: { kind: "tcp", host: "h" }, unit_id: 4 };
    applyInstrumentFields(modbus, cfg, new Map([["unit_id", "17"]]));
    expect(cfg.unit_id).toBe(17);
    applyInstrumentFields(modbus, cfg, new Map([["unit_id", " "]]));
    expect("unit_id" in cfg).toBe(false);
  });

  it("nested paths are created and emptied parents removed", () => {
    const o: Record<string, unknown> = {};
    setPath(o, "a.b", 1);
    expect(o).toEqual({ a: { b: 1 } });
    setPath(o, "a.b", undefined);
    expect(o).toEqual({});
    setPath(o, "x.y", undefined);
    expect(o).toEqual({});
  });

  it("discovery ports and the family a port suggests come from the families", () => {
    const ports = discoveryPorts(list);
    expect(new Set(ports).size).toBe(ports.length);
    for (const f of list) for (const p of f.discoveryPorts) expect(ports).toContain(p);
    const modbusPort = fam("modbus").discoveryPorts[0];
    expect(familyForPort(list, modbusPort)?.id).toBe("modbus");
    expect(familyForPort(list, null)).toBeUndefined();
  });
});
