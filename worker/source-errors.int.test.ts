import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../test/support/postgres";
import { addSource, startServers, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

/**
 * What the worker records on a source it cannot stream: the message and fix the connect form gives for the same
 * failure, never a password, and since when it has been failing, which retries keep. Recovery clears all of it.
 */

let servers: Servers;
let worker: Worker;

type SourceRow = {
  status: string;
  last_error: string | null;
  last_error_fix: string | null;
  failing_since: Date | null;
  updated_at: Date;
};

async function sourceRow(id: string): Promise<SourceRow> {
  const [row] = await servers.storeQuery<SourceRow>(
    "select status, last_error, last_error_fix, failing_since, updated_at from sources where id = $1",
    [id],
  );
  if (!row) throw new Error(`no source ${id}`);
  return row;
}

/** The first row that `matches`, then the row once the worker has recorded `retries` more failed attempts. */
async function failingThroughRetries(id: string, matches: (row: SourceRow) => boolean, retries = 2) {
  const first = await waitFor("the failure recorded", async () => {
    const row = await sourceRow(id);
    return row.status === "error" && matches(row) && row;
  });
  let seen = first;
  for (let retry = 0; retry < retries; retry++) {
    const before = seen.updated_at.getTime();
    seen = await waitFor("another failed attempt recorded", async () => {
      const row = await sourceRow(id);
      return row.updated_at.getTime() > before && row;
    });
  }
  return { first, later: seen };
}

async function streamsAgain(id: string): Promise<SourceRow> {
  return waitFor(
    "streaming again",
    async () => {
      const row = await sourceRow(id);
      return row.status === "streaming" && row;
    },
    { timeoutMs: 30_000 },
  );
}

async function stored(line: string): Promise<boolean> {
  const rows = await servers.storeQuery("select 1 from changes where after->>'line' = $1", [line]);
  return rows.length > 0;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table logs (line text);
    alter table logs replica identity full;
    create publication retrace_pub for table logs;
    create role capture login superuser password 'before-change';
  `);
  for (const slot of ["retrace_unreachable", "retrace_password", "retrace_refused"]) {
    await servers.sourceQuery("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  }
  worker = startTestWorker(servers);
});

afterAll(async () => {
  await worker?.stop();
  await servers?.stop();
});

describe("a source the worker cannot stream", () => {
  it("records an unreachable source as the connect form says it, with its fix, since the first attempt", async () => {
    const closed = await freePort();
    const id = await addSource(servers, {
      slotName: "retrace_unreachable",
      publicationName: "retrace_pub",
      port: closed,
    });
    const { first, later } = await failingThroughRetries(id, (row) => row.last_error_fix !== null);
    expect(later.last_error).toBe(`Could not reach localhost:${closed}: connection refused.`);
    expect(later.last_error).not.toMatch(/ECONNREFUSED/);
    expect(later.last_error_fix).toBe(
      `Check that PostgreSQL is running on localhost:${closed}, that listen_addresses includes the interface ` +
        `Retrace connects to, and that no firewall or security group blocks port ${closed}.`,
    );
    expect(first.failing_since).toBeInstanceOf(Date);
    expect(later.failing_since).toEqual(first.failing_since);

    // Pointed at the server: it streams, and the failure is over.
    await servers.storeQuery("update sources set port = $2 where id = $1", [id, servers.source.port]);
    expect(await streamsAgain(id)).toMatchObject({ last_error: null, last_error_fix: null, failing_since: null });
    await servers.storeQuery("delete from sources where id = $1", [id]);
  });

  it("records a password changed at the source as rejected (never the password), recovers losing nothing", async () => {
    const id = await addSource(servers, {
      slotName: "retrace_password",
      publicationName: "retrace_pub",
      username: "capture",
      password: "before-change",
    });
    await streamsAgain(id);
    await servers.sourceQuery("insert into logs values ('before the change')");
    await waitFor("a change stored", () => stored("before the change"));

    await servers.sourceQuery("alter role capture password 'after-change'");
    // The worker's connections were opened with the old password: end them, as a restart of the source would.
    await servers.sourceQuery("select pg_terminate_backend(pid) from pg_stat_activity where usename = 'capture'");
    await servers.sourceQuery("insert into logs values ('while the password is wrong')");
    const { first, later } = await failingThroughRetries(id, (row) =>
      /Authentication failed/.test(row.last_error ?? ""),
    );
    expect(later.last_error).toBe(
      `Authentication failed for user "capture" on localhost:${servers.source.port}: the password was rejected.`,
    );
    expect(later.last_error_fix).toBe("Check the username and password.");
    for (const text of [later.last_error, later.last_error_fix]) {
      expect(text).not.toContain("before-change");
      expect(text).not.toContain("after-change");
    }
    // The run of failures began when the connection was ended, before the first rejected password.
    expect(later.failing_since).toEqual(first.failing_since);
    expect(first.failing_since?.getTime()).toBeLessThanOrEqual(first.updated_at.getTime());

    await servers.sourceQuery("alter role capture password 'before-change'");
    expect(await streamsAgain(id)).toMatchObject({ last_error: null, last_error_fix: null, failing_since: null });
    await waitFor("the change made while failing", () => stored("while the password is wrong"));
    await servers.storeQuery("delete from sources where id = $1", [id]);
  });

  it("stays failing, since its first failure, while sessions start and fail again at once", async () => {
    // The store refuses one row: every session starts streaming, receives it, and fails.
    await servers.storeQuery(`
      create function refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.after->>'line' = 'poison' then raise exception 'poisoned row'; end if;
        return new;
      end $$;
      create trigger refuse_poison before insert on changes for each row execute function refuse_poison();
    `);
    const id = await addSource(servers, { slotName: "retrace_refused", publicationName: "retrace_pub" });
    await servers.sourceQuery("insert into logs values ('poison')");
    const statuses = new Set<string>();
    const sampling = setInterval(() => {
      sourceRow(id).then(
        (row) => statuses.add(row.status),
        () => undefined,
      );
    }, 10);
    try {
      const { first, later } = await failingThroughRetries(id, (row) => /poisoned row/.test(row.last_error ?? ""), 3);
      expect(later.failing_since).toEqual(first.failing_since);
      expect(later.last_error_fix).toBeNull();
      // Not back to "streaming" at each retry: the page would flicker to live.
      statuses.clear();
      await failingThroughRetries(id, (row) => /poisoned row/.test(row.last_error ?? ""), 2);
      expect([...statuses]).toEqual(["error"]);
    } finally {
      clearInterval(sampling);
    }
    await servers.storeQuery("drop trigger refuse_poison on changes");
    expect(await streamsAgain(id)).toMatchObject({ last_error: null, failing_since: null });
    await waitFor("the refused change", () => stored("poison"));
  });
});
