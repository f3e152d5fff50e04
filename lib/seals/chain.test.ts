import { describe, expect, it } from "vitest";
import { chainHash, changeDigest, checkpointSignatureValid, GENESIS, signCheckpoint, type SealedChange } from "./chain";

const change: SealedChange = {
  id: "7",
  source_id: "3434337e-2f52-4ca4-a9c8-4845a79a2bb6",
  commit_lsn: "0/16B3748",
  seq: 0,
  operation: "UPDATE",
  schema: "public",
  table: "items",
  primary_key: '["3"]',
  before: '{"id":3,"name":"a"}',
  after: '{"id":3,"name":"b"}',
  context: null,
  committed_at: "2026-12-07T00:00:00.123456Z",
};

describe("seal chain", () => {
  it("digests every sealed column, byte for byte", () => {
    const digest = changeDigest(change);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(changeDigest({ ...change })).toBe(digest);
    for (const [column, value] of [
      ["after", '{"id":3, "name":"b"}'],
      ["primary_key", '["4"]'],
      ["context", "{}"],
      ["committed_at", "2026-12-07T00:00:00.123457Z"],
      ["seq", 1],
      ["id", "8"],
    ] as const) {
      expect(changeDigest({ ...change, [column]: value }), column).not.toBe(digest);
    }
    // null and the text "null" are different bytes.
    expect(changeDigest({ ...change, before: "null" })).not.toBe(changeDigest({ ...change, before: null }));
  });

  it("chains: each hash depends on every change before it", () => {
    const a = changeDigest(change);
    const b = changeDigest({ ...change, id: "8", seq: 1 });
    expect(chainHash(chainHash(GENESIS, a), b)).not.toBe(chainHash(chainHash(GENESIS, b), a));
    expect(chainHash(GENESIS, a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("signs checkpoints with a key of the instance secret", () => {
    const checkpoint = {
      sourceId: change.source_id,
      position: "16",
      changeId: "7",
      commitLsn: "0/16B3748",
      seq: 0,
      hash: chainHash(GENESIS, changeDigest(change)),
    };
    const signature = signCheckpoint(checkpoint, "s".repeat(32));
    expect(checkpointSignatureValid(checkpoint, signature, "s".repeat(32))).toBe(true);
    expect(checkpointSignatureValid(checkpoint, signature, "t".repeat(32))).toBe(false);
    expect(checkpointSignatureValid({ ...checkpoint, position: "17" }, signature, "s".repeat(32))).toBe(false);
    expect(checkpointSignatureValid(checkpoint, "00", "s".repeat(32))).toBe(false);
  });
});
