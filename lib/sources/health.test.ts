import { describe, expect, it } from "vitest";
import { captureHealth, LAGGING_AFTER_SECONDS, PICKUP_GRACE_SECONDS, type HealthFacts } from "./health";

const streaming: HealthFacts = {
  enabled: true,
  status: "streaming",
  lastError: null,
  lastErrorFix: null,
  lagSeconds: 0.2,
  lagMeasuredAt: new Date("2026-12-05T10:00:00Z"),
  leased: true,
  updatedAt: new Date("2026-12-05T09:00:00Z"),
};

describe("captureHealth", () => {
  it("is live while a worker streams the source and the trail keeps up", () => {
    expect(captureHealth(streaming)).toEqual({ state: "live", reason: null, fix: null, lagCurrent: true });
    expect(captureHealth({ ...streaming, lagSeconds: LAGGING_AFTER_SECONDS }).state).toBe("live");
    // How far behind is not known yet (just started, nothing stored to measure from).
    expect(captureHealth({ ...streaming, lagSeconds: null }).state).toBe("live");
  });

  it("is lagging past the threshold", () => {
    const lagging = captureHealth({ ...streaming, lagSeconds: 150 });
    expect(lagging.state).toBe("lagging");
    expect(lagging.reason).toBe("The audit trail is 3 min behind the source.");
    expect(lagging.lagCurrent).toBe(true);
  });

  it("is failing with the recorded reason and fix; the lag is then not current", () => {
    const failing = captureHealth({
      ...streaming,
      status: "error",
      lastError: "Could not reach db:5432: connection refused.",
      lastErrorFix: "Check that PostgreSQL is running on db:5432.",
    });
    expect(failing).toEqual({
      state: "failing",
      reason: "Could not reach db:5432: connection refused.",
      fix: "Check that PostgreSQL is running on db:5432.",
      lagCurrent: false,
    });
    const unattended = captureHealth({ ...streaming, status: "error", lastError: "x", leased: false });
    expect(unattended.fix).toContain("No worker is retrying it now");
  });

  it("has stopped when no worker holds the source, whatever its row says", () => {
    const orphan = captureHealth({ ...streaming, leased: false });
    expect(orphan.state).toBe("no_worker");
    expect(orphan.lagCurrent).toBe(false);
    expect(orphan.fix).toContain("npx retrace start");
    expect(captureHealth({ ...streaming, status: "pending", leased: false }).state).toBe("no_worker");
  });

  it("is starting while a new or resumed source waits a moment for a worker, then has no worker", () => {
    const connected = { ...streaming, status: "pending" as const, leased: false };
    const at = (seconds: number) => new Date(streaming.updatedAt.getTime() + seconds * 1000);
    expect(captureHealth(connected, at(3))).toMatchObject({
      state: "starting",
      reason: "Waiting for a worker to take it up.",
      fix: null,
    });
    expect(captureHealth(connected, at(PICKUP_GRACE_SECONDS)).state).toBe("no_worker");
    // Only a pending source: one that streamed and lost its worker has stopped at once.
    expect(captureHealth({ ...streaming, leased: false }, at(3)).state).toBe("no_worker");
  });

  it("is starting, or paused, as the row says", () => {
    expect(captureHealth({ ...streaming, status: "pending" }).state).toBe("starting");
    const paused = captureHealth({ ...streaming, enabled: false, status: "paused", leased: false });
    expect(paused).toMatchObject({ state: "paused", lagCurrent: false });
  });

  it("is removed once a user removed it keeping its changes, whatever its other state", () => {
    const removed = captureHealth({ ...streaming, enabled: false, status: "paused", removedAt: new Date() });
    expect(removed.state).toBe("removed");
    expect(removed.fix).toBeNull();
    expect(removed.lagCurrent).toBe(false);
    expect(removed.reason).toContain("dropped at the source");
  });

  it("says a database recreated by an archive import was never removed at its source by this store", () => {
    const recreated = captureHealth({ ...streaming, enabled: false, removedAt: new Date(), host: "" });
    expect(recreated.state).toBe("removed");
    expect(recreated.reason).toContain("Recreated by an archive import");
    expect(recreated.reason).not.toContain("dropped at the source");
    const removed = captureHealth({ ...streaming, enabled: false, removedAt: new Date(), host: "db.internal" });
    expect(removed.reason).toContain("dropped at the source");
  });
});
