/**
 * A seeded random workload for the revert tests: two tables holding every kind of value a revert must write back
 * exactly (numeric, int8, jsonb with JSON null, json as typed, timestamptz, bytea, arrays, float8, text with
 * quotes and backslashes), one of them with a hostile name and a composite key. Statements are parameterised:
 * the workload's own quoting cannot be what makes a revert pass.
 */

export const HOSTILE_SCHEMA = 'Sch "ema';
export const HOSTILE_TABLE = 'we"ird tä.ble ✓';
export const HOSTILE = `"Sch ""ema"."we""ird tä.ble ✓"`;

export const SETUP_SQL = `
  create table items (
    id bigint primary key,
    price numeric(40, 10),
    big int8,
    doc jsonb,
    raw json,
    at timestamptz,
    blob bytea,
    tags text[],
    grid int[],
    label text,
    ratio float8,
    flag boolean,
    twice bigint generated always as (id * 2) stored
  );
  create schema ${`"Sch ""ema"`};
  create table ${HOSTILE} ("k 1" int, "K""2" text, "va'l" text, "n" numeric, primary key ("k 1", "K""2"));`;

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => Math.floor(rng() * 10)).join("");

const TEXTS = [
  "plain",
  "it's",
  'say "hi"',
  "back\\slash",
  "comma, {brace} (paren)",
  "new\nline\ttab",
  "ünïcødé ✓ 🎉",
  "'); drop table items; --",
  "",
  "NULL",
];

const DOCS: Array<string | null> = [
  null,
  "null",
  '{"a": 1.50, "b": [1, 2, {"c": null}]}',
  '{"n": 123456789012345678901234567890}',
  '"just a string"',
  "[]",
  '{"quote": "it\'s \\"x\\""}',
];

const RAWS: Array<string | null> = [null, "null", '{ "kept" :  "as typed" ,"z":1, "a":2 }', "[1,  2.000]", '"s"'];

/** A timestamptz's text with microseconds and an odd offset. */
function timestamp(rng: Rng): string {
  const date = `20${digits(rng, 2)}-0${1 + Math.floor(rng() * 9)}-1${Math.floor(rng() * 9)}`;
  const time = `0${digits(rng, 1)}:1${digits(rng, 1)}:2${digits(rng, 1)}.${digits(rng, 6)}`;
  return `${date} ${time}+0${Math.floor(rng() * 10)}:30`;
}

/** Parameters (text, cast by the statement) for one row of items. */
function itemValues(rng: Rng): Array<string | null> {
  const maybe = <T>(value: T): T | null => (rng() < 0.15 ? null : value);
  const bytes = Buffer.from(Array.from({ length: Math.floor(rng() * 6) }, () => Math.floor(rng() * 256)));
  const tags = Array.from({ length: Math.floor(rng() * 4) }, () => (rng() < 0.2 ? "NULL" : pick(rng, TEXTS)));
  const tagsLiteral = `{${tags.map((t) => (t === "NULL" ? "NULL" : `"${t.replace(/[\\"]/g, "\\$&")}"`)).join(",")}}`;
  const grid = rng() < 0.5 ? `{${digits(rng, 1)},-${digits(rng, 2)}}` : `{{1,2},{3,${rng() < 0.5 ? "NULL" : "4"}}}`;
  return [
    maybe(`${rng() < 0.5 ? "-" : ""}${digits(rng, 25)}.${digits(rng, 10)}`),
    maybe(pick(rng, ["9223372036854775807", "-9223372036854775808", digits(rng, 17), "0"])),
    pick(rng, DOCS),
    pick(rng, RAWS),
    maybe(timestamp(rng)),
    maybe(`\\x${bytes.toString("hex")}`),
    maybe(tagsLiteral),
    maybe(grid),
    maybe(pick(rng, TEXTS)),
    maybe(pick(rng, ["0.1", "1e+300", "-0", "NaN", "-Infinity", `${digits(rng, 3)}.${digits(rng, 5)}`])),
    maybe(rng() < 0.5 ? "true" : "false"),
  ];
}

const ITEM_COLUMNS = ["price", "big", "doc", "raw", "at", "blob", "tags", "grid", "label", "ratio", "flag"];
const ITEM_CASTS = [
  "numeric",
  "int8",
  "jsonb",
  "json",
  "timestamptz",
  "bytea",
  "text[]",
  "int[]",
  "text",
  "float8",
  "bool",
];

export type Statement = { text: string; values: Array<string | number | null> };

/** The keys a workload knows exist (kept up to date as it writes). */
export type Keys = { items: Set<number>; hostile: Set<string> };

let nextItemId = 1;

/** One random statement changing exactly one row. */
export function randomStatement(rng: Rng, keys: Keys): Statement {
  const onItems = rng() < 0.7;
  const choice = rng();
  if (onItems) {
    const existing = [...keys.items];
    if (existing.length === 0 || choice < 0.35) {
      const id = nextItemId++;
      keys.items.add(id);
      const params = ITEM_CASTS.map((cast, i) => `$${i + 2}::${cast}`).join(", ");
      return {
        text: `insert into items (id, ${ITEM_COLUMNS.join(", ")}) values ($1, ${params})`,
        values: [id, ...itemValues(rng)],
      };
    }
    const id = pick(rng, existing);
    if (choice < 0.5) {
      keys.items.delete(id);
      return { text: "delete from items where id = $1", values: [id] };
    }
    const values = itemValues(rng);
    const chosen = ITEM_COLUMNS.map((_, i) => i).filter(() => rng() < 0.4);
    const set = (chosen.length ? chosen : [0]).map((i, n) => `${ITEM_COLUMNS[i]} = $${n + 2}::${ITEM_CASTS[i]}`);
    return {
      text: `update items set ${set.join(", ")} where id = $1`,
      values: [id, ...(chosen.length ? chosen : [0]).map((i) => values[i] ?? null)],
    };
  }
  const existing = [...keys.hostile];
  if (existing.length === 0 || choice < 0.35) {
    const k1 = Math.floor(rng() * 5);
    const k2 = `${pick(rng, TEXTS)}#${digits(rng, 6)}`;
    keys.hostile.add(JSON.stringify([k1, k2]));
    return {
      text: `insert into ${HOSTILE} values ($1, $2, $3, $4::numeric)`,
      values: [k1, k2, pick(rng, TEXTS), `${digits(rng, 20)}.${digits(rng, 3)}0`],
    };
  }
  const key = pick(rng, existing);
  const [k1, k2] = JSON.parse(key) as [number, string];
  if (choice < 0.5) {
    keys.hostile.delete(key);
    return { text: `delete from ${HOSTILE} where "k 1" = $1 and "K""2" = $2`, values: [k1, k2] };
  }
  return {
    text: `update ${HOSTILE} set "va'l" = $3, "n" = $4::numeric where "k 1" = $1 and "K""2" = $2`,
    values: [k1, k2, pick(rng, TEXTS), rng() < 0.2 ? null : `-${digits(rng, 30)}`],
  };
}

/** Every row of both tables as PostgreSQL's own row text, in key order: equal states read equal, exactly. */
export const STATE_SQL = `
  select 'items' as t, i::text as row from items i
  union all select 'hostile', h::text from ${HOSTILE} h
  order by 1, 2`;
