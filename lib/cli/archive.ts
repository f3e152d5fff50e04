import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { importArchive, type ImportedArchive } from "../archive/import";
import { findArchives } from "../archive/manifest";
import { verifyArchive, type ArchiveVerification } from "../archive/verify";
import { writeArchive } from "../archive/write";
import { connectStore, storeDb } from "../db/client";
import { Conflict, NotFound } from "../errors";
import { findDatabase } from "../sources/lookup";
import { resolveSecret } from "../store/secret";
import { env } from "../env";
import { cliActor, UsageError, withStore } from "./context";

export const ARCHIVE_USAGE = `  archive export --database <name|id> --from <iso time> --to <iso time> --dir <dir|s3://bucket/prefix>
                            Archive a database's changes committed in [from, to) into <dir> (or a
                            bucket prefix): changes.ndjson.gz, seals.ndjson.gz and a signed
                            manifest.json, written last.
  archive verify <dir|manifest|s3://bucket/prefix>
                            Check an archive on its own (or every archive under a directory or
                            prefix): file hashes, each change against its seal, the chain against
                            the signed checkpoint. Names the first bad change; exits 1 on any.
  archive import <dir|manifest|s3://bucket/prefix>
                            Bring archived changes back into the store, searchable again, with
                            their ids, held from expiry (a hold over the archive's range,
                            released on the Retention page). Refuses an archive that does not
                            verify; importing twice adds nothing. A database the store does not
                            have (deleted with its changes, another store) is recreated, removed.
                            A bucket is read with RETRACE_ARCHIVE_S3_* and the AWS credentials
                            (see README: Archives).`;

function parseTime(option: string, value: string | undefined): Date {
  if (value === undefined) throw new UsageError(`archive export needs --${option}`);
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--${option} is not a time: ${value}`);
  return time;
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      database: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      dir: { type: "string" },
    },
    strict: true,
  });
  if (!values.database) throw new UsageError("archive export needs --database");
  if (!values.dir) throw new UsageError("archive export needs --dir");
  const from = parseTime("from", values.from);
  const to = parseTime("to", values.to);
  if (from >= to) throw new UsageError("--from must be before --to");
  const { database, dir } = values;
  return withStore(async (store) => {
    const { pool } = connectStore(store.url, { max: 2 });
    try {
      const source = await findDatabase(storeDb(pool), database);
      const stamp = (time: Date) => time.toISOString().replace(/[-:.]/g, "");
      const name = `${source.name}_${stamp(from)}_${stamp(to)}`;
      const written = await writeArchive(
        pool,
        { name, sourceId: source.id, bucket: null, fromAt: from, toAt: to },
        dir,
        store.secret,
      );
      const { count } = written.manifest;
      console.log(
        written.reused
          ? `${dir} already holds this archive: ${count} change${count === 1 ? "" : "s"} of ${source.name}.`
          : `Archived ${count} change${count === 1 ? "" : "s"} of ${source.name} ` +
              `(${from.toISOString()} to ${to.toISOString()}) in ${dir}.`,
      );
      return 0;
    } finally {
      await pool.end();
    }
  });
}

export function describeArchiveVerification(result: ArchiveVerification): string {
  if (!result.ok) return `FAILED ${result.manifestPath}: ${result.problem}: ${result.message}`;
  const { manifest } = result.archive;
  const checkpoint = manifest.chain
    ? `, chained to the signed checkpoint at position ${manifest.chain.end.position}`
    : "";
  return (
    `OK ${result.manifestPath}: ${result.count} change${result.count === 1 ? "" : "s"} of ${manifest.source.name} ` +
    `(${manifest.range.from} to ${manifest.range.to}) verified${checkpoint}`
  );
}

/** The secret archives are checked with: the instance's (verify needs no store); never a new one. */
function instanceSecret(): string {
  const cli = env.cli;
  if (!cli.RETRACE_SECRET && !fs.existsSync(path.join(cli.dataDir, "secret"))) {
    throw new UsageError(
      `No instance secret: set RETRACE_SECRET or RETRACE_DATA_DIR (no ${path.join(cli.dataDir, "secret")}).`,
    );
  }
  return resolveSecret(cli.dataDir, cli.RETRACE_SECRET);
}

async function verifyCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [where, ...extra] = positionals;
  if (!where || extra.length)
    throw new UsageError("archive verify takes one archive directory, manifest or s3:// location");
  const secret = instanceSecret();
  let failed = false;
  for (const manifestPath of await findArchives(where)) {
    const result = await verifyArchive(manifestPath, secret);
    console.log(describeArchiveVerification(result));
    failed ||= !result.ok;
  }
  return failed ? 1 : 0;
}

export function describeImport(imported: ImportedArchive): string {
  const { count, inserted, range, hold, source } = imported;
  const recreated = imported.recreated
    ? ` Database ${source.name} (${source.id}) was not in this store: recreated, as a removed database that kept ` +
      "its changes."
    : "";
  const resealed = imported.resealed
    ? ` Its seal chain in this store (it verified) was sealed again from the start, to take these older changes.`
    : "";
  const sealing = imported.sealFailure
    ? ` Sealing them failed after the import (${imported.sealFailure}): they are stored all the same, and a ` +
      "worker's sealer seals them at its next round (`retrace verify` counts them as not sealed yet until then)."
    : "";
  return (
    `Imported ${imported.manifestPath}: ${inserted} of ${count} change${count === 1 ? "" : "s"} stored` +
    (inserted < count ? ` (${count - inserted} were in the store already)` : "") +
    "." +
    recreated +
    resealed +
    sealing +
    " " +
    (hold.placed
      ? `Held from expiry: hold ${hold.id} over ${range.from} to ${range.to} (release it on the ` +
        "Retention page or with DELETE /api/holds/<id>)."
      : `Already held from expiry by hold ${hold.id}.`)
  );
}

async function importCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [where, ...extra] = positionals;
  if (!where || extra.length)
    throw new UsageError("archive import takes one archive directory, manifest or s3:// location");
  const manifests = await findArchives(where);
  return withStore(async (store) => {
    const { pool } = connectStore(store.url, { max: 2 });
    try {
      let failed = false;
      for (const manifestPath of manifests) {
        try {
          // Audited in the import's own store transaction, with the hold it placed.
          const imported = await importArchive(pool, manifestPath, store.secret, { actor: cliActor() });
          console.log(describeImport(imported));
        } catch (error) {
          if (!(error instanceof Conflict || error instanceof NotFound)) throw error;
          console.log(`REFUSED ${manifestPath}: ${error.message}`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    } finally {
      await pool.end();
    }
  });
}

export async function archiveCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case "export":
      return exportCommand(rest);
    case "verify":
      return verifyCommand(rest);
    case "import":
      return importCommand(rest);
    default:
      throw new UsageError(`Unknown archive command: ${action ?? "(none)"}`);
  }
}
