import type pg from "pg";

/** At most this many statements, and about this much SQL text, go to the source in one round trip. */
const BATCH_STATEMENTS = 250;
const BATCH_CHARS = 1_000_000;

/**
 * Runs statements of literal SQL (no parameters), a batch of them per round trip: one simple-protocol query
 * holding many statements, whose results come back one each, in order. A revert checks and writes one row per
 * statement, up to 2,000 of each; one at a time they cost a round trip each to a distant source (40 s at 20 ms).
 * In a transaction the statements run as they would one by one; the first to fail ends its batch with its error.
 */
export async function queryEach<R extends pg.QueryResultRow>(
  client: pg.ClientBase,
  statements: readonly string[],
): Promise<pg.QueryResult<R>[]> {
  const results: pg.QueryResult<R>[] = [];
  let batch: string[] = [];
  let chars = 0;
  const send = async () => {
    if (batch.length === 0) return;
    // Several statements answer with an array of results, one with the result itself.
    const answer = (await client.query<R>(batch.join(";\n"))) as pg.QueryResult<R> | pg.QueryResult<R>[];
    const answers = Array.isArray(answer) ? answer : [answer];
    if (answers.length !== batch.length) {
      throw new Error(`${batch.length} statements were sent to the source, and ${answers.length} results came back`);
    }
    results.push(...answers);
    batch = [];
    chars = 0;
  };
  for (const statement of statements) {
    const text = statement.trimEnd().replace(/;$/, "");
    if (batch.length >= BATCH_STATEMENTS || (batch.length > 0 && chars + text.length > BATCH_CHARS)) await send();
    batch.push(text);
    chars += text.length;
  }
  await send();
  return results;
}
