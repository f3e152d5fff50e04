import type { Ahead, Size, StorageReport } from "./report";

export type EnvironmentRow = Size & { name: string; estimated: boolean; ahead: Ahead; deleted: boolean };

/**
 * The storage page's rows by environment: each environment, then the databases deleted since (their rows gone, so
 * no environment) in one row of their own, whose partitions the trail still holds: the rows add up to the trail.
 */
export function environmentRows(report: Pick<StorageReport, "environments" | "databases">): EnvironmentRow[] {
  const rows: EnvironmentRow[] = report.environments.map((e) => ({ ...e, deleted: false }));
  const deleted = report.databases.filter((d) => !d.environment);
  if (deleted.length > 0) {
    rows.push({
      name: deleted.length === 1 ? "A deleted database" : `${deleted.length} deleted databases`,
      bytes: deleted.reduce((sum, d) => sum + d.bytes, 0),
      rows: deleted.reduce((sum, d) => sum + d.rows, 0),
      estimated: deleted.some((d) => d.estimated),
      ahead: {
        partitions: deleted.reduce((sum, d) => sum + d.ahead.partitions, 0),
        bytes: deleted.reduce((sum, d) => sum + d.ahead.bytes, 0),
      },
      deleted: true,
    });
  }
  return rows;
}
