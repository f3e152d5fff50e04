import { describe, expectTypeOf, it } from "vitest";
import type { ChangeDetailJson, ChangeJson } from "../changes/api-types";
import type { Change } from "../changes/queries";
import type { DatabaseJson, RemoveDatabaseResponse } from "../sources/api-types";
import type { SourceSummary } from "../sources/queries";
import type { JsonObject } from "./json";

// Checked by tsc (npm run typecheck): the browser's types follow the server's, field for field.
describe("Jsonified client types", () => {
  it("keep every field of a change, row images as parsed JSON objects", () => {
    expectTypeOf<keyof ChangeJson>().toEqualTypeOf<keyof Change>();
    expectTypeOf<ChangeJson["seq"]>().toEqualTypeOf<number>();
    expectTypeOf<ChangeJson["unavailableFields"]>().toEqualTypeOf<string[] | null>();
    expectTypeOf<ChangeJson["beforeJsonNullFields"]>().toEqualTypeOf<string[] | null>();
    expectTypeOf<ChangeJson["afterJsonNullFields"]>().toEqualTypeOf<string[] | null>();
    expectTypeOf<ChangeJson["partition"]>().toEqualTypeOf<{ schema: string; table: string } | null>();
    expectTypeOf<ChangeJson["before"]>().toEqualTypeOf<JsonObject | null>();
    expectTypeOf<ChangeJson["context"]>().toEqualTypeOf<JsonObject>();
    expectTypeOf<ChangeDetailJson["transaction"]>().toEqualTypeOf<ChangeJson[]>();
  });

  it("keep every field of a database, dates as ISO strings", () => {
    expectTypeOf<keyof DatabaseJson>().toEqualTypeOf<keyof SourceSummary | "slot">();
    expectTypeOf<DatabaseJson["createdAt"]>().toEqualTypeOf<string>();
    expectTypeOf<DatabaseJson["lastChangeAt"]>().toEqualTypeOf<string | null>();
    expectTypeOf<DatabaseJson["lagBytes"]>().toEqualTypeOf<number | null>();
    expectTypeOf<RemoveDatabaseResponse>().toEqualTypeOf<{
      id: string;
      changes: "kept" | "deleted";
      manualCleanupSql: string | null;
    }>();
  });
});
