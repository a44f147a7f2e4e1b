import { describe, expect, it } from "vitest";
import { dragRect, firstFree, fits, keyRect, relativePoint, rowsShown } from "../src/panels/layout";
import { alarmSeverity, alarmsFor, type PanelAlarm } from "../src/panels/source";

const panels = [
  { id: 1, x: 0, y: 0, w: 6, h: 4 },
  { id: 2, x: 6, y: 0, w: 6, h: 2 },
];

describe("board layout", () => {
  it("a panel fits on the grid where no other panel is", () => {
    expect(fits(panels, 2, { x: 6, y: 1, w: 6, h: 2 })).toBe(true);
    expect(fits(panels, 2, { x: 5, y: 0, w: 6, h: 2 })).toBe(false); // over panel 1
    expect(fits(panels, 2, { x: 7, y: 0, w: 6, h: 2 })).toBe(false); // past column 12
    expect(fits(panels, 2, { x: 6, y: -1, w: 6, h: 2 })).toBe(false);
  });

  it("a new panel goes to the first free spot, row by row", () => {
    expect(firstFree(panels, 3, 2)).toEqual({ x: 6, y: 2, w: 3, h: 2 });
    expect(firstFree(panels, 12, 2)).toEqual({ x: 0, y: 4, w: 12, h: 2 });
  });

  it("arrow keys move a panel by a cell, shift+arrows resize it", () => {
    const r = { x: 2, y: 3, w: 4, h: 2 };
    expect(keyRect(r, "ArrowRight", false)).toEqual({ x: 3, y: 3, w: 4, h: 2 });
    expect(keyRect(r, "ArrowUp", false)).toEqual({ x: 2, y: 2, w: 4, h: 2 });
    expect(keyRect(r, "ArrowDown", true)).toEqual({ x: 2, y: 3, w: 4, h: 3 });
    expect(keyRect(r, "ArrowLeft", true)).toEqual({ x: 2, y: 3, w: 3, h: 2 });
    expect(keyRect(r, "Enter", false)).toBeNull();
  });

  it("a drag snaps to cells and stays on the grid", () => {
    const r = { x: 2, y: 3, w: 4, h: 2 };
    expect(dragRect(r, 160, 70, 80, 74, false)).toEqual({ x: 4, y: 4, w: 4, h: 2 });
    expect(dragRect(r, 5000, -5000, 80, 74, false)).toEqual({ x: 8, y: 0, w: 4, h: 2 });
    expect(dragRect(r, -1000, 148, 80, 74, true)).toEqual({ x: 2, y: 3, w: 1, h: 4 });
  });

  it("a drop point is kept relative to the image, clamped to it", () => {
    expect(relativePoint(150, 250, { left: 100, top: 200, width: 200, height: 100 })).toEqual({ x: 0.25, y: 0.5 });
    expect(relativePoint(0, 999, { left: 100, top: 200, width: 200, height: 100 })).toEqual({ x: 0, y: 1 });
  });

  it("the board shows room below its lowest panel", () => {
    expect(rowsShown(panels)).toBe(8);
    expect(rowsShown([{ x: 0, y: 10, w: 1, h: 4 }])).toBe(17);
  });
});

const alarm = (id: string, severity: PanelAlarm["severity"], active: boolean, acked: boolean, channels: string[], since = 0): PanelAlarm => ({
  id,
  rule: id.split(":")[0],
  name: id,
  severity,
  active,
  acked,
  since,
  value: null,
  message: null,
  channels,
});

describe("panel alarms", () => {
  const list = [
    alarm("hot:l/t1", "medium", true, false, ["l/t1"], 1),
    alarm("very-hot:l/t1", "critical", true, true, ["l/t1"], 2),
    alarm("low:p/u", "low", false, true, ["p/u"], 3),
    alarm("drop:p/u", "high", false, false, ["p/u"], 4),
  ];

  it("a value takes the colour of its most urgent active alarm", () => {
    expect(alarmSeverity(list, "l/t1")).toBe("critical");
    expect(alarmSeverity(list, "p/u")).toBeNull(); // returned alarms do not colour
  });

  it("an alarm list shows the active or unacknowledged alarms of its rules or channels", () => {
    expect(alarmsFor(list, [], []).map((a) => a.id)).toEqual(["very-hot:l/t1", "drop:p/u", "hot:l/t1"]);
    expect(alarmsFor(list, ["drop"], []).map((a) => a.id)).toEqual(["drop:p/u"]);
    expect(alarmsFor(list, [], ["l/t1"]).map((a) => a.id)).toEqual(["very-hot:l/t1", "hot:l/t1"]);
  });
});
