/**
 * Every built-in type, round-tripped through a real source, the worker and the store.
 *
 * The JSON representation of a value (the ingest contract, "values are exact"), by class:
 * - integer, numeric, float (finite): a JSON number carrying exactly the digits PostgreSQL
 *   printed (int8 and 40-digit numerics included; a numeric keeps its scale, `1.50` stays 1.50).
 * - numeric and float NaN, Infinity, -Infinity, and float -0: the text as a JSON string (jsonb
 *   numbers cannot hold them; -0 would silently become 0).
 * - bool: true / false.
 * - json, jsonb: the document itself (as jsonb normalises it: key order, duplicate keys, spaces).
 *   A json value jsonb cannot hold (a \u0000 escape, an unpaired surrogate escape, a number out
 *   of numeric's range) is kept as its text, a JSON string, so the row still stores.
 * - arrays, of built-in and of user-defined types alike: JSON arrays, nested per dimension, NULL
 *   elements as null, each element by the rule of its type (so an enum[] or a composite[] is an
 *   array of strings). Arrays with explicit lower bounds (`[0:1]={1,2}`) have no faithful JSON
 *   array form and are kept as their text.
 * - domains: by the rule of their base type (a domain over int is a number, over int[] an array).
 * - everything else (text, bytea, date/time, interval, uuid, network, money, bit, xml, text
 *   search, geometry, ranges, enums, composites, pg_lsn, ...): the type's output text, as a
 *   JSON string, in PostgreSQL's default output settings (DateStyle ISO, IntervalStyle
 *   postgres, shortest-exact floats, hex bytea) and in UTC (timestamptz as `…+00`), whatever
 *   the source database's own defaults.
 * - SQL NULL: JSON null. A json/jsonb value that is the JSON literal null reads the same in the image,
 *   so each change lists those columns per image (before_json_null_fields, after_json_null_fields).
 *
 * Expected values are derived from the SOURCE server (each column's output text under the
 * default settings, classified by the rules above, in SQL) and compared with the store's
 * `after -> col` as jsonb text in SQL, never through JavaScript numbers.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listChanges } from "../lib/changes/queries";
import { connectStore } from "../lib/db/client";
import { addSource, startServers, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

type Scalar = "number" | "text" | "bool" | "json";
type Kind = Scalar | { array: Scalar };
type Column = { name: string; type: string; kind: Kind };
type Row = Record<string, string | null>;

const col = (name: string, type: string, kind: Kind): Column => ({ name, type, kind });

const COLUMNS: Column[] = [
  col("i2", "int2", "number"),
  col("i4", "int4", "number"),
  col("i8", "int8", "number"),
  col("o", "oid", "number"),
  col("n", "numeric", "number"),
  col("f4", "float4", "number"),
  col("f8", "float8", "number"),
  col("b", "bool", "bool"),
  col("t", "text", "text"),
  col("vc", "varchar(40)", "text"),
  col("bp", "char(5)", "text"),
  col("qc", '"char"', "text"),
  col("nm", "name", "text"),
  col("by", "bytea", "text"),
  col("j", "json", "json"),
  col("jb", "jsonb", "json"),
  col("ai", "int4[]", { array: "number" }),
  col("a8", "int8[]", { array: "number" }),
  col("at", "text[]", { array: "text" }),
  col("ab", "bool[]", { array: "bool" }),
  col("an", "numeric[]", { array: "number" }),
  col("af", "float8[]", { array: "number" }),
  col("aj", "jsonb[]", { array: "json" }),
  col("ajs", "json[]", { array: "json" }),
  col("ats", "timestamptz[]", { array: "text" }),
  col("au", "uuid[]", { array: "text" }),
  col("abx", "box[]", { array: "text" }),
  col("apt", "point[]", { array: "text" }),
  col("ar", "int4range[]", { array: "text" }),
  col("ax", "xml[]", { array: "text" }),
  col("d", "date", "text"),
  col("tm", "time", "text"),
  col("ttz", "timetz", "text"),
  col("ts", "timestamp", "text"),
  col("tstz", "timestamptz", "text"),
  col("iv", "interval", "text"),
  col("u", "uuid", "text"),
  col("ip", "inet", "text"),
  col("cn", "cidr", "text"),
  col("mac", "macaddr", "text"),
  col("mac8", "macaddr8", "text"),
  col("m", "money", "text"),
  col("bt", "bit(8)", "text"),
  col("vb", "varbit", "text"),
  col("x", "xml", "text"),
  col("tv", "tsvector", "text"),
  col("tq", "tsquery", "text"),
  col("pt", "point", "text"),
  col("bx", "box", "text"),
  col("e", "mood", "text"),
  col("dt", "email", "text"),
  col("comp", "pair", "text"),
  col("r4", "int4range", "text"),
  col("rtz", "tstzrange", "text"),
  col("mr", "int4multirange", "text"),
  col("lsn", "pg_lsn", "text"),
  col('we "ird" é', "text", "text"),
  col("__proto__", "text", "text"),
];

const FORTY = "1234567890123456789012345678901234567890";
const NASTY_TEXT = `Zoë "q" \\ back\nline\r\ttab 😀 \u2028\u2029 {a,b} 'single' NULL \u0001\u001f end`;

/** Values as input text (cast by the server to the column type); absent = NULL. */
const ROWS: Row[] = [
  {
    i2: "32767",
    i4: "2147483647",
    i8: "9223372036854775807",
    o: "4294967295",
    n: `${FORTY}.${FORTY}`,
    f4: "3.4028235e+38",
    f8: "1.7976931348623157e+308",
    b: "t",
    t: NASTY_TEXT,
    vc: "plain",
    bp: "ab",
    qc: "z",
    nm: "a_name",
    by: "\\xdeadbeef00ff",
    j: '{"a": [1, 2.50, "x"], "big": 123456789012345678901234567890, "n": null, "t": true}',
    jb: '{"nested": {"deep": [1, {"x": "y"}]}, "big": -98765432109876543210.00010, "e": 1e-7}',
    ai: "{1,2,NULL,-2147483648}",
    a8: "{9223372036854775807,-9223372036854775808,NULL}",
    at: '{"a b",NULL,"c\\"d","e,f","{g}","NULL","","back\\\\slash"," lead",x,\u00a0nbsp\u00a0,\ufeffbom,\u2003em}',
    ab: "{t,f,NULL}",
    an: "{1.50,NaN,-Infinity,Infinity,NULL,-0.000001}",
    af: "{0.1,NaN,Infinity,-Infinity,-1e-300,NULL,-0}",
    aj: '{"{\\"a\\": 1}","[1, 2]",NULL,"\\"s\\"","12345678901234567890.5"}',
    ajs: '{"{\\"k\\": [true, null]}",NULL}',
    ats: '{"2024-02-29 23:59:59.123456+00",infinity,NULL}',
    au: "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}",
    abx: "{(1,1),(0,0);(2,2),(1,1)}",
    apt: '{"(1,2)","(3.5,-4)"}',
    ar: '{"[1,3)",empty}',
    ax: '{"<a>1</a>","<b/>"}',
    d: "5874897-12-31",
    tm: "24:00:00",
    ttz: "24:00:00-15:59",
    ts: "294276-12-31 23:59:59.999999",
    tstz: "2024-02-29 23:59:59.123456+05:30",
    iv: "178000000 years 11 mons 30 days 23:59:59.999999",
    u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ip: "2001:db8::1/64",
    cn: "10.0.0.0/8",
    mac: "08:00:2b:01:02:03",
    mac8: "08:00:2b:01:02:03:04:05",
    m: "92233720368547758.07",
    bt: "10101010",
    vb: "1",
    x: '<a b="1">text &amp; more</a>',
    tv: "a:1 fat cats",
    tq: "fat & (rat | !cat)",
    pt: "(1.5,-2)",
    bx: "(1,1),(0,0)",
    e: "happy",
    dt: "a@b.c",
    comp: '(1,"x ""y"", z")',
    r4: "[1,10)",
    rtz: "[2024-01-01 00:00:00.000001+00,infinity)",
    mr: "{[1,3),[5,7)}",
    lsn: "16/B374D848",
    'we "ird" é': "odd column name",
    __proto__: "not a prototype",
  },
  {
    i2: "-32768",
    i4: "-2147483648",
    i8: "-9223372036854775808",
    o: "0",
    n: `-${FORTY}.000100`,
    f4: "-3.4028235e+38",
    f8: "5e-324",
    b: "f",
    t: "",
    vc: "\uFEFFstarts with a BOM",
    bp: "",
    qc: "\\",
    nm: "",
    by: "\\x",
    j: '"nul \\u0000 escape"',
    jb: "null",
    ai: "{{1,2},{3,NULL}}",
    a8: "{}",
    at: '{{"a b",NULL},{"c,d","e\\"f"}}',
    ab: "{}",
    an: "{}",
    af: "{}",
    aj: "{}",
    ats: "{}",
    d: "4713-01-01 BC",
    tm: "00:00:00",
    ttz: "00:00:00+15:59",
    ts: "4713-01-01 00:00:00 BC",
    tstz: "-infinity",
    iv: "-178000000 years",
    m: "-92233720368547758.08",
    bt: "00000000",
    vb: "",
    x: "",
    tv: "",
    tq: "",
    e: "sad",
    dt: "",
    comp: "(,)",
    r4: "empty",
    rtz: "(,)",
    mr: "{}",
    lsn: "0/0",
    'we "ird" é': "",
  },
  {
    n: "NaN",
    f4: "NaN",
    f8: "NaN",
    t: "NULL",
    j: '"unpaired \\ud800 surrogate"',
    jb: "12345678901234567890.123456789012345678901234567890",
    ai: "[0:1]={1,2}",
    d: "infinity",
    ts: "infinity",
    tstz: "infinity",
    iv: "infinity",
    vc: "\uFEFF",
  },
  { n: "Infinity", f4: "Infinity", f8: "Infinity", j: "[1e400, -1e-400, 1e131072]", iv: "-infinity", d: "-infinity" },
  {
    n: "-Infinity",
    f4: "-Infinity",
    f8: "-Infinity",
    j: '"escaped backslash \\\\u0000 is not a NUL"',
    jb: '"\\u00e9 \\ud83d\\ude00"',
  },
  { n: "1e131071", f4: "-0", f8: "-0", j: '{"dup": 1, "dup": 2, "emoji": "\\ud83d\\ude00"}', jb: "[]" },
  { n: "1e-16383", f4: "1e-45", f8: "2.2250738585072014e-308", j: "[1, 2.000, -0, 0.1e5]", jb: "-0.0" },
  { f8: "0.30000000000000004", f4: "0.1", n: "0.50" },
  {},
];

/** Output settings PostgreSQL ships with: the canonical text form the store records. */
const CANONICAL_SETTINGS =
  "set datestyle = 'ISO, MDY'; set intervalstyle = 'postgres'; set extra_float_digits = 1; " +
  "set bytea_output = 'hex'; set timezone = 'UTC'";

/** SQL helpers on the source that classify output text by the rules in the header. */
const EXPECTATION_FUNCTIONS = `
  -- plpgsql, not a CASE: the planner folds a CASE branch with constant input and would fail on it.
  create function exp_scalar(value text, kind text) returns jsonb language plpgsql immutable as $$
    begin
      if value is null then return 'null'::jsonb; end if;
      if kind = 'bool' then return to_jsonb(value in ('t', 'true')); end if;
      if kind = 'number' and value not in ('NaN', 'Infinity', '-Infinity', '-0') then return value::jsonb; end if;
      if kind = 'json' and pg_input_is_valid(value, 'jsonb') then return value::jsonb; end if;
      return to_jsonb(value);
    end $$;
  -- Elements of to_jsonb(array::text[]): the source's own element text, nested per dimension.
  create function exp_elements(elements jsonb, kind text) returns jsonb language plpgsql immutable as $$
    begin
      if jsonb_typeof(elements) = 'array' then
        return coalesce((select jsonb_agg(exp_elements(e, kind) order by i)
                           from jsonb_array_elements(elements) with ordinality x(e, i)), '[]'::jsonb);
      elsif jsonb_typeof(elements) = 'null' then
        return 'null'::jsonb;
      end if;
      return exp_scalar(elements #>> '{}', kind);
    end $$;
  create function exp_array(value anyarray, kind text) returns jsonb language plpgsql immutable as $$
    begin
      if value is null then return 'null'::jsonb; end if;
      if format('%s', value) like '[%' then return to_jsonb(format('%s', value)); end if;
      return exp_elements(to_jsonb(value::text[]), kind);
    end $$;
`;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

function expectation(column: Column): string {
  const ref = quoteIdent(column.name);
  // format('%s') is the type's output function (a ::text cast would trim char(n) padding). It
  // prints NULL as '', hence the case; num_nonnulls, because `is not null` is false for a
  // composite whose fields are all NULL.
  if (typeof column.kind === "string") {
    return `exp_scalar(case when num_nonnulls(${ref}) = 1 then format('%s', ${ref}) end, '${column.kind}')`;
  }
  return `exp_array(${ref}, '${column.kind.array}')`;
}

/** `select id, <expected after image as jsonb text>` for every row of `table`. */
function expectedImagesSql(table: string, columns: Column[]): string {
  const pairs = [{ name: "id", type: "int4", kind: "number" as const }, ...columns].map(
    (column) => `jsonb_build_object(${pgString(column.name)}, ${expectation(column)})`,
  );
  return `select id, (${pairs.join(" || ")})::text as image from ${table} order by id`;
}

const pgString = (value: string) => `'${value.replaceAll("'", "''")}'`;

async function insertRows(client: pg.Client, table: string, columns: Column[], rows: Row[]): Promise<void> {
  for (const [index, row] of rows.entries()) {
    const names = ["id", ...columns.map((c) => c.name)];
    const casts = ["$1::int4", ...columns.map((c, i) => `$${i + 2}::${c.type}`)];
    await client.query(`insert into ${table} (${names.map(quoteIdent).join(", ")}) values (${casts.join(", ")})`, [
      index + 1,
      ...columns.map((c) => row[c.name] ?? null),
    ]);
  }
}

let servers: Servers;
let worker: Worker;
const clients: pg.Client[] = [];

async function sourceClient(database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: servers.source.url(database) });
  await client.connect();
  clients.push(client);
  await client.query(CANONICAL_SETTINGS);
  return client;
}

async function registerSource(database: string, slotName: string, publicationName: string): Promise<string> {
  return addSource(servers, { slotName, publicationName, database, host: "127.0.0.1" });
}

type Stored = {
  operation: string;
  primary_key: string;
  before: string | null;
  after: string | null;
  changed_fields: string[] | null;
};

async function storedChanges(sourceId: string, table: string, expected: number): Promise<Stored[]> {
  const query = () =>
    servers.storeQuery<Stored>(
      `select operation, primary_key, before::text as before, after::text as after, changed_fields
         from changes where source_id = $1 and "table" = $2 order by commit_lsn, seq`,
      [sourceId, table],
    );
  await waitFor(`${expected} changes of ${table}`, async () => (await query()).length >= expected, {
    timeoutMs: 60_000,
  }).catch(async (error: unknown) => {
    const [source] = await servers.storeQuery<{ status: string; last_error: string | null }>(
      "select status, last_error from sources where id = $1",
      [sourceId],
    );
    throw new Error(`${String(error)} (source ${source?.status}: ${source?.last_error ?? "no error"})`);
  });
  return query();
}

/** Columns whose stored value differs from the expected one, compared as jsonb text in the store. */
async function mismatches(
  expectedImage: string,
  storedImage: string | null,
): Promise<Array<{ key: string; expected: string | null; stored: string | null }>> {
  return servers.storeQuery(
    `select key, left(e.value::text, 300) as expected, left(s.value::text, 300) as stored
       from jsonb_each($1::jsonb) e full join jsonb_each($2::jsonb) s using (key)
      where e.value::text is distinct from s.value::text
      order by key`,
    [expectedImage, storedImage],
  );
}

/** Inserts, updates and deletes every row, and checks all three images of each. */
async function roundTrip(options: {
  client: pg.Client;
  sourceId: string;
  table: string;
  columns: Column[];
  rows: Row[];
}) {
  const { client, sourceId, table, columns, rows } = options;
  await insertRows(client, table, columns, rows);
  const inserted = (await client.query<{ id: number; image: string }>(expectedImagesSql(table, columns))).rows;
  const editsText = columns.some((c) => c.name === "t");
  await client.query(`update ${table} set ${editsText ? "t = coalesce(t, '') || ' (edited)'" : "id = id"}`);
  const updated = (await client.query<{ id: number; image: string }>(expectedImagesSql(table, columns))).rows;
  await client.query(`delete from ${table}`);
  expect(inserted).toHaveLength(rows.length);

  const stored = await storedChanges(sourceId, table, rows.length * 3);
  expect(stored.map((c) => c.operation)).toEqual([
    ...rows.map(() => "CREATE"),
    ...rows.map(() => "UPDATE"),
    ...rows.map(() => "DELETE"),
  ]);
  for (const [index, expectedInsert] of inserted.entries()) {
    const id = String(expectedInsert.id);
    const created = stored[index];
    const update = stored[rows.length + index];
    const removed = stored[2 * rows.length + index];
    const expectedUpdate = updated[index];
    if (!created || !update || !removed || !expectedUpdate) throw new Error(`missing changes for row ${id}`);
    expect([created.primary_key, update.primary_key, removed.primary_key]).toEqual([id, id, id]);
    expect(await mismatches(expectedInsert.image, created.after), `CREATE of row ${id}`).toEqual([]);
    expect(created.before).toBeNull();
    // The before image of the update is exactly the after image of the insert; likewise delete.
    expect(update.before, `UPDATE before image of row ${id}`).toBe(created.after);
    expect(await mismatches(expectedUpdate.image, update.after), `UPDATE of row ${id}`).toEqual([]);
    expect(update.changed_fields).toEqual(editsText ? ["t"] : []);
    expect(removed.before, `DELETE before image of row ${id}`).toBe(update.after);
    expect(removed.after).toBeNull();
  }
}

let appSource: string;
let legacySource: string;

beforeAll(async () => {
  servers = await startServers();
  await servers.source.createDatabase("legacy");
  // A database whose own defaults print values differently (and, for floats, lossily): the
  // worker must still record the canonical text.
  await servers.source.query(
    `alter database legacy set datestyle = 'SQL, DMY';
     alter database legacy set extra_float_digits = 0;
     alter database legacy set intervalstyle = 'sql_standard';
     alter database legacy set bytea_output = 'escape';
     alter database legacy set timezone = 'Asia/Kolkata'`,
  );
  await servers.sourceQuery(`
    create type mood as enum ('sad', 'ok', 'happy');
    create domain email as text;
    create domain posint as int check (value > 0);
    create domain ints as int[];
    create domain money2 as numeric(12, 2);
    create type pair as (a int, b text);
    create table typed (id int primary key, ${COLUMNS.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(", ")});
    alter table typed replica identity full;
    create table custom_resolved (id int primary key, dpos posint, apos posint[], amood mood[], acomp pair[],
                                  aemail email[], dints ints, dnum money2, card information_schema.cardinal_number);
    alter table custom_resolved replica identity full;
    create domain jdoc as jsonb;
    create table json_nulls (id int primary key, j json, jb jsonb, dj jdoc, t text);
    alter table json_nulls replica identity full;
    create publication types_pub for table typed, custom_resolved, json_nulls;
    ${EXPECTATION_FUNCTIONS}
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot('types_slot', 'pgoutput')");
  await servers.source.query(
    `create table legacy_typed (id int primary key, f8 float8, f4 float4, af float8[], d date, ts timestamp,
                                tstz timestamptz, ats timestamptz[], iv interval, tm time, ttz timetz, by bytea,
                                n numeric);
     alter table legacy_typed replica identity full;
     create publication legacy_pub for table legacy_typed;
     ${EXPECTATION_FUNCTIONS}`,
    [],
    "legacy",
  );
  await servers.source.query("select pg_create_logical_replication_slot('legacy_slot', 'pgoutput')", [], "legacy");
  appSource = await registerSource("app", "types_slot", "types_pub");
  legacySource = await registerSource("legacy", "legacy_slot", "legacy_pub");
  worker = startTestWorker(servers);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.end()));
  await worker?.stop();
  await servers?.stop();
});

describe("value round-trip", () => {
  it("stores every built-in type exactly, in insert, update and delete images", async () => {
    const client = await sourceClient("app");
    await roundTrip({ client, sourceId: appSource, table: "typed", columns: COLUMNS, rows: ROWS });

    // The classes, spelled out once on the first row (the comparison above already covers them).
    const [classes] = await servers.storeQuery<Record<string, string>>(
      `select json_typeof(after->'i8') as i8, after->>'i8' as i8_text, json_typeof(after->'n') as n,
              json_typeof(after->'b') as b, json_typeof(after->'jb') as jb, json_typeof(after->'ai') as ai,
              json_typeof(after->'tstz') as tstz, json_typeof(after->'abx') as abx, after->>'t' as t
         from changes where source_id = $1 and "table" = 'typed' and operation = 'CREATE' and primary_key = '1'`,
      [appSource],
    );
    expect(classes).toEqual({
      i8: "number",
      i8_text: "9223372036854775807",
      n: "number",
      b: "boolean",
      jb: "object",
      ai: "array",
      tstz: "string",
      abx: "array",
      t: NASTY_TEXT,
    });
  });

  it("records the canonical text whatever output settings the source database defaults to", async () => {
    const client = await sourceClient("legacy");
    const columns: Column[] = [
      col("f8", "float8", "number"),
      col("f4", "float4", "number"),
      col("af", "float8[]", { array: "number" }),
      col("d", "date", "text"),
      col("ts", "timestamp", "text"),
      col("tstz", "timestamptz", "text"),
      col("ats", "timestamptz[]", { array: "text" }),
      col("iv", "interval", "text"),
      col("tm", "time", "text"),
      col("ttz", "timetz", "text"),
      col("by", "bytea", "text"),
      col("n", "numeric", "number"),
    ];
    const rows: Row[] = [
      {
        f8: "0.30000000000000004",
        f4: "0.100000001",
        af: "{0.30000000000000004,1.0000000000000002}",
        d: "2024-02-29",
        ts: "2024-02-29 23:59:59.123456",
        tstz: "2024-02-29 23:59:59.123456+00",
        ats: '{"2024-02-29 23:59:59.123456+00"}',
        iv: "1 year 2 mons 3 days 04:05:06.000007",
        tm: "04:05:06.000007",
        ttz: "04:05:06.000007+02",
        by: "\\xdeadbeef",
        n: "1.50",
      },
      { f8: "-1.2345678901234567e-300", iv: "-1 days +02:00:00", d: "0044-03-15 BC" },
    ];
    await roundTrip({ client, sourceId: legacySource, table: "legacy_typed", columns, rows });
  });

  it("stores domains as their base type and arrays of user-defined types as arrays", async () => {
    const client = await sourceClient("app");
    const columns: Column[] = [
      col("dpos", "posint", "number"),
      col("apos", "posint[]", { array: "number" }),
      col("amood", "mood[]", { array: "text" }),
      col("acomp", "pair[]", { array: "text" }),
      col("aemail", "email[]", { array: "text" }),
      col("dints", "ints", { array: "number" }),
      col("dnum", "money2", "number"),
      col("card", "information_schema.cardinal_number", "number"),
    ];
    await roundTrip({
      client,
      sourceId: appSource,
      table: "custom_resolved",
      columns,
      rows: [
        {
          dpos: "2147483647",
          apos: "{1,NULL,3}",
          amood: "{happy,NULL,sad}",
          acomp: '{"(1,x)","(,)",NULL,"(2,\\"a b\\")"}',
          aemail: '{a@b.c,NULL,"with, comma"}',
          dints: "{{1,2},{3,NULL}}",
          dnum: "1.50",
          card: "0",
        },
        { apos: "{}", amood: "[0:0]={ok}" },
        {},
      ],
    });
    const [first] = await servers.storeQuery<Record<string, string>>(
      `select after->'dpos' as dpos, after->'amood' as amood, after->'acomp' as acomp, after->'dints' as dints
         from changes
        where source_id = $1 and "table" = 'custom_resolved' and operation = 'CREATE' and primary_key = '1'`,
      [appSource],
    );
    expect(first).toEqual({
      dpos: 2147483647,
      amood: ["happy", null, "sad"],
      acomp: ["(1,x)", "(,)", null, '(2,"a b")'],
      dints: [
        [1, 2],
        [3, null],
      ],
    });
  });

  it("tells a JSON null apart from SQL NULL in json and jsonb columns, in each image and in the API", async () => {
    const client = await sourceClient("app");
    const steps = [
      "insert into json_nulls values (1, ' null ', 'null', 'null', 'null')",
      "update json_nulls set jb = null, dj = null where id = 1",
      "update json_nulls set jb = 'null'::json::jsonb, j = null where id = 1",
      "update json_nulls set j = '\"null\"', dj = '{\"k\": null}' where id = 1",
      "delete from json_nulls where id = 1",
    ];
    for (const step of steps) await client.query(step);
    await storedChanges(appSource, "json_nulls", steps.length);
    const rows = await servers.storeQuery<{
      operation: string;
      after: string | null;
      changed_fields: string[] | null;
      before_json_null_fields: string[] | null;
      after_json_null_fields: string[] | null;
    }>(
      `select operation, after::text as after, changed_fields, before_json_null_fields, after_json_null_fields
         from changes where source_id = $1 and "table" = 'json_nulls' order by commit_lsn, seq`,
      [appSource],
    );
    expect(rows.map((r) => [r.operation, r.before_json_null_fields, r.after_json_null_fields])).toEqual([
      ["CREATE", null, ["j", "jb", "dj"]],
      ["UPDATE", ["j", "jb", "dj"], ["j"]],
      ["UPDATE", ["j"], ["jb"]],
      ["UPDATE", ["jb"], ["jb"]],
      ["DELETE", ["jb"], null],
    ]);
    // The images alone cannot tell them apart: `null` either way (json keeps its own spacing).
    expect(rows[0]?.after).toBe('{"id":1,"j": null ,"jb":null,"dj":null,"t":"null"}');
    expect(rows[1]?.after).toBe('{"id":1,"j": null ,"jb":null,"dj":null,"t":"null"}');
    expect(rows[1]?.changed_fields).toEqual(["jb", "dj"]);
    expect(rows[3]?.after).toBe('{"id":1,"j":"null","jb":null,"dj":{"k": null},"t":"null"}');

    // The API carries the lists beside the images.
    const store = connectStore(servers.storeUrl, { max: 1 });
    try {
      const { changes } = await listChanges(store.db, { sourceId: appSource, table: "json_nulls" }, { limit: 10 });
      expect(changes.map((c) => [c.operation, c.beforeJsonNullFields, c.afterJsonNullFields]).reverse()).toEqual(
        rows.map((r) => [r.operation, r.before_json_null_fields, r.after_json_null_fields]),
      );
    } finally {
      await store.pool.end();
    }
  });
});
