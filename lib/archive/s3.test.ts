import { describe, expect, it } from "vitest";
import { Invalid } from "../errors";
import { parseBucketHref } from "./s3";
import { fileLocation } from "./where";

describe("s3:// archive locations", () => {
  it("splits a location into its bucket and key prefix", () => {
    expect(parseBucketHref("s3://retrace-archives")).toEqual({ bucket: "retrace-archives", prefix: "" });
    expect(parseBucketHref("s3://retrace-archives/")).toEqual({ bucket: "retrace-archives", prefix: "" });
    expect(parseBucketHref("s3://retrace-archives/prod/eu/")).toEqual({
      bucket: "retrace-archives",
      prefix: "prod/eu",
    });
  });

  it("refuses what is not a bucket name, naming the location", () => {
    for (const href of ["s3://", "s3://ab/x", "s3://Upper/x", "s3://under_score", "https://bucket/x"]) {
      expect(() => parseBucketHref(href)).toThrow(Invalid);
    }
    expect(() => parseBucketHref("s3://ab/x")).toThrow("s3://ab/x is not an s3://bucket/prefix location");
  });

  it("takes a manifest's href apart into its archive and its file name", () => {
    const { location, file } = fileLocation("s3://retrace-archives/prod/changes_x/manifest.json");
    expect(file).toBe("manifest.json");
    expect(location.href).toBe("s3://retrace-archives/prod/changes_x");
    expect(location.fileHref("changes.ndjson.gz")).toBe("s3://retrace-archives/prod/changes_x/changes.ndjson.gz");
    expect(location.child("a").fileHref("m.json")).toBe("s3://retrace-archives/prod/changes_x/a/m.json");
    const local = fileLocation("/backup/app/manifest.json");
    expect(local.location.href).toBe("/backup/app");
    expect(local.file).toBe("manifest.json");
  });
});
