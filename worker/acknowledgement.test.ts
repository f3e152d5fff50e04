import { describe, expect, it } from "vitest";
import { Acknowledgement, type StreamState } from "./acknowledgement";

const idle: StreamState = { transactionOpen: false, storePending: false, parsed: 7, handled: 7, halted: false };

/** Started at the slot's confirmed position 0/1000, as a session starts. */
function started(slot = "0/1000"): Acknowledgement {
  const acknowledgement = new Acknowledgement();
  acknowledgement.slotPosition(slot);
  return acknowledgement;
}

describe("Acknowledgement", () => {
  it("starts at the slot's confirmed position, which is safe to acknowledge again", () => {
    const acknowledgement = started();
    expect(acknowledgement.lsn).toBe("0/1000");
    expect(acknowledgement.isNew).toBe(true);
    expect(acknowledgement.progressed).toBe(false);
    acknowledgement.acknowledged("0/1000");
    expect(acknowledgement.isNew).toBe(false);
  });

  it("acknowledges nothing at 0/0", () => {
    const acknowledgement = started("0/0");
    expect(acknowledgement.lsn).toBeNull();
    expect(acknowledgement.isNew).toBe(false);
    acknowledgement.keepalive("0/0", idle);
    expect([acknowledgement.lsn, acknowledgement.isNew, acknowledgement.progressed]).toEqual([null, false, false]);
  });

  it("moves to the end of a stored group's last commit, and says when that is new", () => {
    const acknowledgement = started();
    acknowledgement.acknowledged("0/1000");
    acknowledgement.stored("0/2058");
    expect([acknowledgement.lsn, acknowledgement.isNew, acknowledgement.progressed]).toEqual(["0/2058", true, true]);
    acknowledgement.acknowledged("0/2058");
    expect(acknowledgement.isNew).toBe(false);
    acknowledgement.stored("0/3000");
    expect(acknowledgement.isNew).toBe(true);
  });

  it("moves to an idle keepalive's position (zero-padded as the library prints it)", () => {
    const acknowledgement = started();
    acknowledgement.keepalive("00000000/00005000", idle);
    expect([acknowledgement.lsn, acknowledgement.progressed]).toEqual(["0/5000", true]);
  });

  it.each<[string, Partial<StreamState>]>([
    ["a transaction is open", { transactionOpen: true }],
    ["a group is pending or committing", { storePending: true }],
    ["messages are parsed but not yet handled", { parsed: 9, handled: 7 }],
    ["the session is halted", { halted: true }],
  ])("does not move on a keepalive while %s", (_, state) => {
    const acknowledgement = started();
    acknowledgement.keepalive("0/9000", { ...idle, ...state });
    expect([acknowledgement.lsn, acknowledgement.progressed]).toEqual(["0/1000", false]);
  });

  it("never moves back: a keepalive or a group behind the position changes nothing", () => {
    const acknowledgement = started();
    acknowledgement.stored("0/4000");
    acknowledgement.acknowledged("0/4000");
    acknowledgement.keepalive("0/3FFF", idle);
    acknowledgement.stored("0/2000");
    acknowledgement.acknowledged("0/2000");
    expect([acknowledgement.lsn, acknowledgement.isNew]).toEqual(["0/4000", false]);
  });

  it("a message between transactions counts only once nothing is open or waiting for the store", () => {
    const acknowledgement = started();
    // A heartbeat arrives while the group before it commits: it does not count yet ...
    expect(acknowledgement.betweenTransactions("0/6000", { transactionOpen: false, storePending: true })).toBe(false);
    expect(acknowledgement.lsn).toBe("0/1000");
    // ... the session waits for that commit, which moves the position to the group's end ...
    acknowledgement.stored("0/5F00");
    expect(acknowledgement.lsn).toBe("0/5F00");
    // ... and then the heartbeat counts.
    expect(acknowledgement.betweenTransactions("0/6000", { transactionOpen: false, storePending: false })).toBe(true);
    expect(acknowledgement.lsn).toBe("0/6000");
    // Inside a transaction a message never counts.
    expect(acknowledgement.betweenTransactions("0/7000", { transactionOpen: true, storePending: false })).toBe(false);
    expect(acknowledgement.lsn).toBe("0/6000");
  });

  it("a replay moves nothing until its group is stored", () => {
    // The store holds a transaction ending at 0/3000 whose acknowledgement never reached the server:
    // the slot is still at 0/1000 and the server resends that transaction.
    const acknowledgement = started();
    const keepalive = "0/3000";
    acknowledgement.keepalive(keepalive, { ...idle, transactionOpen: true });
    acknowledgement.keepalive(keepalive, { ...idle, storePending: true });
    expect(acknowledgement.lsn).toBe("0/1000");
    acknowledgement.stored("0/3000");
    expect(acknowledgement.lsn).toBe("0/3000");
  });

  it("compares LSNs as numbers, not text", () => {
    const acknowledgement = started("0/FFFFFFFF");
    acknowledgement.stored("1/0");
    expect(acknowledgement.lsn).toBe("1/0");
    acknowledgement.keepalive("0/FFFFFFFF", idle);
    expect(acknowledgement.lsn).toBe("1/0");
  });
});
