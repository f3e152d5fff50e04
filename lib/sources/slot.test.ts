import { describe, expect, it } from "vitest";
import { walRisk, WAL_CRITICAL_BYTES, WAL_WARNING_BYTES, type SlotFacts } from "./slot";

const healthy: SlotFacts = {
  exists: true,
  active: true,
  walStatus: "reserved",
  retainedBytes: 64 * 1024,
  pendingBytes: 0,
  safeWalSizeBytes: null,
  maxSlotWalKeepSize: "-1",
  maxSlotWalKeepSizeBytes: null,
};

const GB = 1024 ** 3;

describe("walRisk", () => {
  it("is ok while the slot keeps little WAL", () => {
    expect(walRisk(healthy)).toEqual({ level: "ok", message: null, fix: null });
    expect(walRisk({ ...healthy, retainedBytes: WAL_WARNING_BYTES - 1 }).level).toBe("ok");
  });

  it("warns, then says the disk is at risk, when max_slot_wal_keep_size is unlimited", () => {
    const warning = walRisk({ ...healthy, retainedBytes: WAL_WARNING_BYTES });
    expect(warning.level).toBe("warning");
    expect(warning.message).toContain("max_slot_wal_keep_size is unlimited");
    expect(warning.fix).toContain("ALTER SYSTEM SET max_slot_wal_keep_size");
    const critical = walRisk({ ...healthy, retainedBytes: WAL_CRITICAL_BYTES });
    expect(critical.level).toBe("critical");
    expect(critical.message).toContain("until the source's disk is full");
  });

  it("measures against max_slot_wal_keep_size where it is set", () => {
    const capped = { ...healthy, maxSlotWalKeepSize: "4GB", maxSlotWalKeepSizeBytes: 4 * GB };
    expect(walRisk({ ...capped, retainedBytes: 1.9 * GB, safeWalSizeBytes: 2.1 * GB }).level).toBe("ok");
    const half = walRisk({ ...capped, retainedBytes: 2 * GB, safeWalSizeBytes: 2 * GB });
    expect(half.level).toBe("warning");
    expect(half.message).toContain("over half of max_slot_wal_keep_size (4GB)");
    expect(half.message).toContain("2.1 GB left");
    // Far past the warning threshold when unlimited, but within the cap: the cap is what matters.
    expect(walRisk({ ...capped, maxSlotWalKeepSizeBytes: 100 * GB, retainedBytes: 20 * GB }).level).toBe("ok");
  });

  it("is critical once the slot is unreserved, lost or missing", () => {
    expect(walRisk({ ...healthy, walStatus: "unreserved", maxSlotWalKeepSize: "1GB" }).level).toBe("critical");
    const lost = walRisk({ ...healthy, walStatus: "lost" });
    expect(lost.level).toBe("critical");
    expect(lost.message).toContain("invalidated");
    const missing = walRisk({ ...healthy, exists: false });
    expect(missing.level).toBe("critical");
    expect(missing.fix).toContain("connect it again");
  });
});
