import pg from "pg";
import { encryptSecret } from "../lib/crypto/secrets";
import { publicationOptionsSql } from "../lib/sources/publication";
import { sleep, type BenchServers } from "./servers";
import { BENCH_SECRET } from "./source";

/** The three environments, each a database on the source server with the same 20 tables. */
export const BROWSE_SOURCES = [
  { database: "shop_prod", environment: "production" },
  { database: "shop_staging", environment: "staging" },
  { database: "shop_test", environment: "test" },
] as const;
export const BROWSE_TABLES = 20;
/** Changes per source transaction: 600 creates, 350 updates, 50 deletes (the first transactions of a table fewer). */
const TRANSACTION_CHANGES = 1000;

// The generator, in each source database: `transactions` transactions of one table each, the table drawn with
// probability ~1/k (t01 busiest, t20 rarest: skewed sizes); creates, updates of `amount` or `status` (the changed
// field alternates), deletes of the oldest rows; a context on every third transaction; a TRUNCATE of the rarest
// table once, in the middle, in staging only.
const GENERATOR = `
create procedure browse_generate(transactions int, offset_tx int, truncate_at int) language plpgsql as $$
declare
  weights float8[] := array(select 1.0 / k from generate_series(1, ${BROWSE_TABLES}) k);
  total float8 := (select sum(w) from unnest(weights) w);
  t int; k int; pick float8; acc float8; name text; next_id bigint; n bigint; written bigint;
begin
  for t in 1..transactions loop
    pick := ((t + offset_tx) * 0.6180339887498949) % 1.0 * total;
    acc := 0; k := 0;
    loop k := k + 1; acc := acc + weights[k]; exit when acc >= pick or k = ${BROWSE_TABLES}; end loop;
    name := format('t%s', lpad(k::text, 2, '0'));
    if (t + offset_tx) % 3 = 0 then
      perform pg_logical_emit_message(true, '_retrace',
        json_build_object('user_id', (t + offset_tx) % 500, 'endpoint', 'POST /orders')::text);
    end if;
    update browse_next set id = id + 600 where "table" = name returning id - 600 into next_id;
    execute format('insert into %I select i, i %% 1000, (i %% 100000) / 100.0, ''new'', md5(i::text)
                      from generate_series($1, $1 + 599) i', name) using next_id;
    get diagnostics written = row_count;
    execute format('update %I set %s where id between $1 - 1350 and $1 - 1001', name,
                   case when (t + offset_tx) % 2 = 0 then 'amount = amount + 1' else 'status = ''paid''' end)
      using next_id;
    get diagnostics n = row_count;
    written := written + n;
    execute format('delete from %I where id between $1 - 3000 and $1 - 2951', name) using next_id;
    get diagnostics n = row_count;
    written := written + n;
    if t = truncate_at then
      execute format('truncate t%s', ${BROWSE_TABLES});
      written := written + 1;
    end if;
    -- Not published: what the trail must hold.
    update browse_written set n = browse_written.n + written;
    commit;
  end loop;
end $$`;

async function provisionDatabase(servers: BenchServers, database: string, slot: string): Promise<pg.Pool> {
  await servers.source.createDatabase(database);
  const pool = new pg.Pool({ connectionString: servers.source.url(database), max: 2 });
  pool.on("error", () => undefined);
  const tables = Array.from({ length: BROWSE_TABLES }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);
  await pool.query(`
    create table browse_next ("table" text primary key, id bigint not null);
    create table browse_written (n bigint not null);
    insert into browse_written values (0);
    insert into browse_next select format('t%s', lpad(k::text, 2, '0')), 1 from generate_series(1, ${BROWSE_TABLES}) k;
    ${tables
      .map(
        (
          table,
        ) => `create table ${table} (id bigint primary key, account_id int not null, amount numeric(12,2) not null,
                                             status text not null, note text);
                    alter table ${table} replica identity full;`,
      )
      .join("\n")}
    create publication browse_pub for table ${tables.join(", ")}${await publicationOptionsSql(pool)};
    ${GENERATOR};`);
  await pool.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  return pool;
}

/** Registers a source database in the store as the web app does, with its tracked tables; returns its id. */
async function registerBrowseSource(
  servers: BenchServers,
  source: (typeof BROWSE_SOURCES)[number],
  slot: string,
): Promise<string> {
  const { rows } = await servers.storePool.query<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, ssl_mode, environment,
                          slot_name, publication_name)
     values ($1, 'localhost', $2, $1, 'postgres', $3, 'disable', $4, $5, 'browse_pub') returning id::text as id`,
    [
      source.database,
      servers.source.port,
      encryptSecret(servers.source.password, BENCH_SECRET),
      source.environment,
      slot,
    ],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error("no source id");
  await servers.storePool.query(
    `insert into tracked_tables (source_id, schema, "table")
     select $1, 'public', format('t%s', lpad(k::text, 2, '0')) from generate_series(1, ${BROWSE_TABLES}) k`,
    [id],
  );
  return id;
}

export type BrowseWorkload = { changes: number; transactions: number; generateSeconds: number; sourceIds: string[] };

/** The three source databases, provisioned and registered in the store, with a pool to each (`pools[i]`). */
export type BrowseSources = { pools: pg.Pool[]; sourceIds: string[]; close(): Promise<void> };

/** Provisions the three databases (tables, publication, generator, slot) and registers them as sources. */
export async function provisionBrowseSources(servers: BenchServers): Promise<BrowseSources> {
  const pools: pg.Pool[] = [];
  const close = async () => void (await Promise.allSettled(pools.map((pool) => pool.end())));
  try {
    const sourceIds: string[] = [];
    for (const source of BROWSE_SOURCES) {
      const slot = `browse_${source.environment}`;
      pools.push(await provisionDatabase(servers, source.database, slot));
      sourceIds.push(await registerBrowseSource(servers, source, slot));
    }
    return { pools, sourceIds, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Writes transactions `from` to `to` (exclusive, counted per database from 0) in each database, the databases
 * taking turns in slices so their commit times overlap; staging TRUNCATEs the rarest table at its transaction
 * `truncateAt` (if in range). Everything happens in the source servers: the bench holds nothing per change.
 */
export async function writeBrowseTransactions(
  sources: BrowseSources,
  range: { from: number; to: number; truncateAt: number },
  log: (line: string) => void,
): Promise<void> {
  const slice = 50;
  for (let done = range.from; done < range.to; done += slice) {
    const count = Math.min(slice, range.to - done);
    await Promise.all(
      sources.pools.map((pool, i) =>
        pool.query("call browse_generate($1, $2, $3)", [count, done, i === 1 ? range.truncateAt - done : -1]),
      ),
    );
    if (done % 1000 === 0) log(`  ${(done * BROWSE_SOURCES.length).toLocaleString("en-US")} transactions written`);
  }
}

/** Changes written so far in the three databases (what the trail must hold). */
export async function writtenChanges(sources: BrowseSources): Promise<number> {
  let total = 0;
  for (const pool of sources.pools) {
    const { rows } = await pool.query<{ n: string }>("select n::text as n from browse_written");
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
}

/** Changes per database for ~`changes` in all: whole transactions, at least one. */
export const transactionsPerSource = (changes: number) =>
  Math.max(1, Math.round(changes / TRANSACTION_CHANGES / BROWSE_SOURCES.length));

/** Writes ~`changes` changes across the three databases while nothing consumes (their sources registered). */
export async function generateBrowseWorkload(
  servers: BenchServers,
  changes: number,
  log: (line: string) => void,
): Promise<BrowseWorkload> {
  const began = performance.now();
  const sources = await provisionBrowseSources(servers);
  try {
    const perSource = transactionsPerSource(changes);
    await writeBrowseTransactions(sources, { from: 0, to: perSource, truncateAt: Math.floor(perSource / 2) }, log);
    const total = await writtenChanges(sources);
    const generateSeconds = (performance.now() - began) / 1000;
    return {
      changes: total,
      transactions: perSource * BROWSE_SOURCES.length,
      generateSeconds,
      sourceIds: sources.sourceIds,
    };
  } finally {
    await sources.close();
  }
}

/** Changes the store holds, from its summary (the worker writes it with the rows, whatever shape `changes` has). */
export async function storedChanges(servers: BenchServers): Promise<number> {
  const { rows } = await servers.storePool.query<{ stored: string }>(
    "select coalesce(sum(creates + updates + deletes + truncates), 0)::text as stored from change_segments",
  );
  return Number(rows[0]?.stored ?? 0);
}

/**
 * Waits until the store holds `changes` changes; throws when the count has not moved for `stallMs`, or when
 * `check` (called at every poll, e.g. "is the worker still running") throws.
 */
export async function waitUntilStored(
  servers: BenchServers,
  changes: number,
  stallMs: number,
  check?: () => void,
): Promise<void> {
  let lastCount = -1;
  let changedAt = performance.now();
  for (;;) {
    const stored = await storedChanges(servers);
    if (stored >= changes) return;
    check?.();
    if (stored !== lastCount) {
      lastCount = stored;
      changedAt = performance.now();
    } else if (performance.now() - changedAt > stallMs) {
      throw new Error(`the worker stalled at ${stored} of ${changes} changes`);
    }
    await sleep(1000);
  }
}
