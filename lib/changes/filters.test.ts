import { describe, expect, it } from "vitest";
import { sourcesInView } from "./filters";

const sources = [
  { id: "0b6f1c1e-4a57-4b4e-9a43-5d0c1b7e2f10", environment: "production", database: "shop" },
  { id: "3f0e4a52-0000-4000-8000-000000000000", environment: "staging", database: "shop" },
  { id: "7d1a2b3c-0000-4000-8000-000000000000", environment: "production", database: "billing" },
];

describe("sourcesInView", () => {
  it("narrows the sources as the environment, database and source filters narrow the changes", () => {
    expect(sourcesInView(sources, {})).toEqual(sources);
    expect(sourcesInView(sources, { operation: "UPDATE", table: "items", primaryKey: "1" })).toEqual(sources);
    expect(sourcesInView(sources, { environment: "production" }).map((s) => s.database)).toEqual(["shop", "billing"]);
    expect(sourcesInView(sources, { database: "shop" }).map((s) => s.environment)).toEqual(["production", "staging"]);
    expect(sourcesInView(sources, { environment: "staging", database: "billing" })).toEqual([]);
    expect(sourcesInView(sources, { sourceId: "3F0E4A52-0000-4000-8000-000000000000" })).toEqual([sources[1]]);
  });
});
