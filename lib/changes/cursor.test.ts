import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor";

const a = "00000000-0000-4000-8000-00000000000a";
const b = "00000000-0000-4000-8000-00000000000b";
const encoded = (text: string) => Buffer.from(text, "utf8").toString("base64url");

describe("cursor", () => {
  it("round-trips an id, in a few characters", () => {
    expect(decodeCursor(encodeCursor("42"))).toEqual({ id: "42" });
    expect(decodeCursor(encodeCursor("9223372036854775807"))).toEqual({ id: "9223372036854775807" });
    expect(encodeCursor("9223372036854775807").length).toBeLessThanOrEqual(30);
  });

  it("still reads a cursor that carried each source's position (handed out before cursors were an id)", () => {
    const legacy = `c:42,${a}@0/16B3A50#0,${b}@FFFFFFFF/FFFFFFFF#2147483647`;
    expect(decodeCursor(encoded(legacy))).toEqual({ id: "42" });
  });

  it.each([
    ["no prefix", "42"],
    ["id zero", "c:0"],
    ["id past int8", "c:9223372036854775808"],
    ["lowercase LSN", `c:1,${a}@0/16b3a50#0`],
    ["seq past int4", `c:1,${a}@0/1#2147483648`],
    ["a source twice", `c:1,${a}@0/1#0,${a}@0/2#0`],
    ["no seq", `c:1,${a}@0/1`],
    ["not a uuid", "c:1,source@0/1#0"],
    ["empty entry", "c:1,"],
  ])("refuses %s", (_, text) => {
    expect(() => decodeCursor(encoded(text))).toThrow("cursor is not valid");
  });
});
