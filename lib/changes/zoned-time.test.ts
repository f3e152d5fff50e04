import { describe, expect, it } from "vitest";
import { utcTime, zonedTime } from "./zoned-time";

describe("zonedTime", () => {
  it("reads a stored time in UTC to the microsecond", () => {
    expect(utcTime("2024-05-06T07:08:09.123456Z")).toBe("2024-05-06 07:08:09.123456 UTC");
    expect(utcTime("2024-05-06T23:59:59Z")).toBe("2024-05-06 23:59:59 UTC");
  });

  it("reads it in another zone with its offset, the date moving with it", () => {
    expect(zonedTime("2024-05-06T07:08:09.123456Z", "Europe/Paris")).toBe("2024-05-06 09:08:09.123456 GMT+2");
    expect(zonedTime("2024-01-06T07:08:09.000001Z", "Europe/Paris")).toBe("2024-01-06 08:08:09.000001 GMT+1");
    expect(zonedTime("2024-05-06T02:00:00.5Z", "America/New_York")).toBe("2024-05-05 22:00:00.5 GMT-4");
    expect(zonedTime("2024-05-06T00:00:00.999999Z", "Asia/Kolkata")).toBe("2024-05-06 05:30:00.999999 GMT+5:30");
  });

  it("keeps midnight as 00, not 24", () => {
    expect(utcTime("2024-05-06T00:00:00.000000Z")).toBe("2024-05-06 00:00:00.000000 UTC");
  });
});
