const UNITS = ["bytes", "kB", "MB", "GB", "TB", "PB"];

/** A size as PostgreSQL's pg_size_pretty says it (units of 1024): "8192 bytes", "12 MB", "1.4 GB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 10 * 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value).toLocaleString("en-US")} bytes`;
  return `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))} ${UNITS[unit]}`;
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
