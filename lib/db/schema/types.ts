import { customType } from "drizzle-orm/pg-core";

/** PostgreSQL's own LSN type, exchanged as its text form ("16/B374D848"). */
export const pgLsn = customType<{ data: string; driverData: string }>({
  dataType: () => "pg_lsn",
});
