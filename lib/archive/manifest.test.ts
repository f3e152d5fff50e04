import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ARCHIVE_COLUMNS, parseArchiveLine, sealedColumns } from "./columns";
import { manifestSignatureValid, readManifest, signManifest, type UnsignedManifest } from "./manifest";

const SECRET = "s".repeat(32);
const file = { file: "changes.ndjson.gz", sha256: "a".repeat(64), bytes: 10 };
const unsigned: UnsignedManifest = {
  format: 1,
  kind: "retrace-archive",
  partition: "changes_x_s_20261207",
  source: { id: "3434337e-2f52-4ca4-a9c8-4845a79a2bb6", name: "app", environment: "test", database: "app" },
  bucket: "",
  range: { from: "2026-12-07T00:00:00.000000Z", to: "2026-12-08T00:00:00.000000Z" },
  count: 2,
  minId: "7",
  maxId: "8",
  columns: ["id"],
  data: file,
  chain: null,
  createdAt: "2026-12-08T01:00:00.000Z",
};

describe("archive manifest", () => {
  it("is signed over its content, whatever order its keys are in", () => {
    const signed = signManifest(unsigned, SECRET);
    expect(manifestSignatureValid(signed, SECRET)).toBe(true);
    const reordered = JSON.parse(JSON.stringify({ signature: signed.signature, ...unsigned, count: 2 }));
    expect(manifestSignatureValid(reordered, SECRET)).toBe(true);
    expect(manifestSignatureValid({ ...signed, count: 1 }, SECRET)).toBe(false);
    expect(manifestSignatureValid({ ...signed, data: { ...file, bytes: 11 } }, SECRET)).toBe(false);
    expect(manifestSignatureValid(signed, "t".repeat(32))).toBe(false);
    expect(manifestSignatureValid({ ...signed, signature: "00" }, SECRET)).toBe(false);
  });

  it("names its files by plain names: a path out of the archive is not a manifest", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-manifest-"));
    try {
      const manifestPath = path.join(dir, "manifest.json");
      fs.writeFileSync(manifestPath, JSON.stringify(signManifest(unsigned, SECRET)));
      expect((await readManifest(manifestPath)).manifest.data.file).toBe("changes.ndjson.gz");
      for (const name of ["../secret", "/etc/passwd", "..", "a/b", ""]) {
        fs.writeFileSync(
          manifestPath,
          JSON.stringify(signManifest({ ...unsigned, data: { ...file, file: name } }, SECRET)),
        );
        await expect(readManifest(manifestPath)).rejects.toThrow("is not a Retrace archive manifest");
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("archive lines", () => {
  const line = Object.fromEntries(
    ARCHIVE_COLUMNS.map(([name, kind]) => [name, kind === "int" ? 0 : kind === "text[]" ? null : `v-${name}`]),
  );

  it("hold exactly the archived columns", () => {
    expect(parseArchiveLine(JSON.stringify(line))).toEqual(line);
    expect(() => parseArchiveLine(JSON.stringify({ ...line, extra: "x" }))).toThrow();
    const missing = Object.fromEntries(Object.entries(line).filter(([name]) => name !== "before"));
    expect(() => parseArchiveLine(JSON.stringify(missing))).toThrow();
    expect(() => parseArchiveLine(JSON.stringify({ ...line, seq: "0" }))).toThrow();
    expect(() => parseArchiveLine(JSON.stringify({ ...line, changed_fields: ["a", 1] }))).toThrow();
  });

  it("give the seals the same text they digest", () => {
    const sealed = sealedColumns(parseArchiveLine(JSON.stringify({ ...line, context: null })));
    expect(sealed).toMatchObject({
      id: "v-id",
      before: "v-before",
      context: null,
      seq: 0,
      committed_at: "v-committed_at",
    });
  });
});
