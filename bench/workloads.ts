import type pg from "pg";
import { lastTransaction, rowsSelect } from "./source";

export type ThroughputWorkload = {
  name: "a" | "b" | "c";
  label: string;
  changes: number;
  transactions: number;
  /**
   * Writes the workload at the source through `client` and returns the WAL position just before
   * its last COMMIT (see lastTransaction). Earlier transactions commit asynchronously: only
   * the generation gets faster, the WAL the slots decode is the same.
   */
  generate(client: pg.Client, table: string): Promise<string>;
};

const insertRange = (table: string) => `insert into ${table} ${rowsSelect("$1", "$2")}`;

export function throughputWorkloads(scale: number): ThroughputWorkload[] {
  const aTransactions = Math.max(1, Math.round(1_000 * scale));
  const aRows = 1_000;
  const bChanges = Math.max(2, Math.round(200_000 * scale));
  const cChanges = Math.max(1, Math.round(1_000_000 * scale));
  return [
    {
      name: "a",
      label: "A: 1000-row transactions",
      changes: aTransactions * aRows,
      transactions: aTransactions,
      async generate(client, table) {
        await client.query("set synchronous_commit = off");
        for (let t = 0; t < aTransactions - 1; t++) {
          await client.query(insertRange(table), [t * aRows + 1, (t + 1) * aRows]);
        }
        const last = aTransactions - 1;
        return lastTransaction(client, insertRange(table), [last * aRows + 1, (last + 1) * aRows]);
      },
    },
    {
      name: "b",
      label: "B: single-row transactions",
      changes: bChanges,
      transactions: bChanges,
      async generate(client, table) {
        await client.query("set synchronous_commit = off");
        // One COMMIT per row, server side (a DO block may commit when not inside a transaction).
        await client.query(`
          do $$
          begin
            for k in 1..${bChanges - 1} loop
              insert into ${table} ${rowsSelect("k", "k")};
              commit;
            end loop;
          end $$`);
        return lastTransaction(client, insertRange(table), [bChanges, bChanges]);
      },
    },
    {
      name: "c",
      label: "C: one big transaction",
      changes: cChanges,
      transactions: 1,
      async generate(client, table) {
        return lastTransaction(client, insertRange(table), [1, cChanges]);
      },
    },
  ];
}
