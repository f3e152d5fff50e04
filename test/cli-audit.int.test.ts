/**
 * What the command line changes is in Retrace's own audit log, as the web's changes are: `retrace user create`,
 * `user deactivate`, `token create` and `token revoke` (a second revoke, which changes nothing, is not audited),
 * each under the actor kind `cli` labelled with the OS user that ran it, and GET /api/audit (the Activity page's
 * source) lists them and finds them by that label. `retrace archive import` is checked in test/archive.int.test.ts.
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebStore } from "./support/postgres";

const root = path.resolve(import.meta.dirname, "..");
const SECRET = "c".repeat(40);

let web: Awaited<ReturnType<typeof startWebStore>>;

function retrace(args: string[], input = "") {
  const result = spawnSync(process.execPath, [path.join(root, "bin/retrace.mjs"), ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: web.url, RETRACE_SECRET: SECRET, LOG_LEVEL: "warn" },
    input,
    encoding: "utf8",
    timeout: 90_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return result;
}

type Row = { actor_kind: string; actor_id: string | null; actor_label: string; target_label: string; details: object };

async function auditRows(action: string): Promise<Row[]> {
  const { rows } = await web.server.query<Row>(
    `select actor_kind, actor_id::text, actor_label, target_label, details, address from audit_events
      where action = $1 order by id`,
    [action],
    "retrace",
  );
  return rows;
}

const osUser = os.userInfo().username;
const byCli = { actor_kind: "cli", actor_id: null, actor_label: osUser, address: null };

beforeAll(async () => {
  web = await startWebStore(SECRET);
});

afterAll(async () => {
  await web?.close();
});

describe("the command line's changes are audited", () => {
  it("creates and deactivates a user", async () => {
    retrace(["user", "create", "--email", "ops@example.com", "--role", "admin"], "ops password 1\n");
    expect(await auditRows("user.create")).toEqual([
      { ...byCli, target_label: "ops@example.com", details: { role: "admin" } },
    ]);
    retrace(["user", "deactivate", "--email", "ops@example.com"]);
    expect(await auditRows("user.update")).toEqual([
      { ...byCli, target_label: "ops@example.com", details: { active: false } },
    ]);
  });

  it("creates and revokes a token, a second revoke not audited", async () => {
    retrace(["token", "create", "--name", "deploys", "--role", "viewer"]);
    expect(await auditRows("token.create")).toEqual([
      { ...byCli, target_label: "deploys", details: { role: "viewer" } },
    ]);
    retrace(["token", "revoke", "deploys"]);
    retrace(["token", "revoke", "deploys"]);
    expect(await auditRows("token.revoke")).toEqual([{ ...byCli, target_label: "deploys", details: {} }]);
  });

  it("lists them in GET /api/audit under the command line, found by the OS user", async () => {
    const { createApiToken } = await import("@/lib/auth/tokens");
    const { getDb } = await import("@/lib/db");
    const { GET } = await import("@/app/api/audit/route");
    const { token } = await createApiToken(getDb(), "reader", { role: "admin" });
    const response = await GET(
      new Request(`http://localhost/api/audit?actor=${encodeURIComponent(osUser)}`, {
        headers: { authorization: `Bearer ${token}` },
      }),
      { params: Promise.resolve({}) },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      events: { action: string; actor: { kind: string; id: string | null; label: string } }[];
    };
    expect(body.events.map((e) => e.action)).toEqual(["token.revoke", "token.create", "user.update", "user.create"]);
    for (const event of body.events) expect(event.actor).toEqual({ kind: "cli", id: null, label: osUser });
  });
});
