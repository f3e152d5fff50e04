import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { webBuildState } from "./processes";

let root = "";

afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Sets a file's modification time `seconds` from now. */
function touch(file: string, seconds: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, "");
  const at = new Date(Date.now() + seconds * 1000);
  fs.utimesSync(file, at, at);
}

describe("webBuildState", () => {
  it("is missing without a build, current after one, stale once a source is newer", () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-build-"));
    touch(path.join(root, "app", "page.tsx"), -60);
    touch(path.join(root, "package-lock.json"), -60);
    expect(webBuildState(root)).toBe("missing");

    touch(path.join(root, ".next", "BUILD_ID"), -30);
    // Directories were just created: their own times count too.
    for (const dir of [root, path.join(root, "app")])
      fs.utimesSync(dir, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(webBuildState(root)).toBe("current");

    // A test beside the code is not part of the build.
    touch(path.join(root, "app", "page.test.tsx"), 0);
    fs.utimesSync(path.join(root, "app"), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(webBuildState(root)).toBe("current");

    // An edited source (its directory's time stays as it was).
    touch(path.join(root, "app", "page.tsx"), 0);
    expect(webBuildState(root)).toBe("stale");
  });

  it("is stale when the dependencies changed", () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-build-"));
    touch(path.join(root, ".next", "BUILD_ID"), -30);
    touch(path.join(root, "package-lock.json"), 0);
    expect(webBuildState(root)).toBe("stale");
  });
});
