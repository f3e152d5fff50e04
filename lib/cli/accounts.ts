import { parseArgs } from "node:util";
import { recordAudit } from "../audit/record";
import { createApiToken, listApiTokens, revokeApiToken } from "../auth/tokens";
import { createUser, deactivateUser, findUserByEmail } from "../auth/users";
import { connectStore, type Db } from "../db/client";
import { Conflict, NotFound } from "../errors";
import { cliActor, UsageError, withStore } from "./context";
import { readPassword } from "./password";

/**
 * `retrace user …` and `retrace token …`: the team managed from the command line, audited as the web's actions are
 * (the same actions, the actor the command line and its OS user: cliActor), in the transaction of the change.
 */

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  return withStore(async (store) => {
    const { db, pool } = connectStore(store.url, { max: 1 });
    try {
      return await fn(db);
    } finally {
      await pool.end();
    }
  });
}

export async function userCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === "deactivate") return deactivateCommand(rest);
  if (action !== "create") throw new UsageError(`Unknown user command: ${action ?? "(none)"}`);
  if (rest.some((arg) => arg === "--password" || arg.startsWith("--password="))) {
    throw new UsageError(
      "--password is not taken: the process list would show the password to every user of this machine. " +
        "Type it at the prompt, or pipe it on stdin: retrace user create --email E < password-file",
    );
  }
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: "string" }, role: { type: "string" } },
    strict: true,
  });
  if (!values.email) throw new UsageError("user create needs --email");
  if (values.role && values.role !== "admin" && values.role !== "viewer") {
    throw new UsageError("--role must be admin or viewer");
  }
  const { email, role } = values;
  const password = await readPassword();
  return withDb(async (db) => {
    const user = await db.transaction(async (tx) => {
      const created = await createUser(tx, { email, password, role: role === "admin" ? "admin" : "viewer" });
      await recordAudit(
        tx,
        cliActor(),
        "user.create",
        { type: "user", id: created.id, label: created.email },
        {
          role: created.role,
        },
      );
      return created;
    });
    console.log(`Created ${user.role} ${user.email}`);
    return 0;
  });
}

async function deactivateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: "string" } }, strict: true });
  if (!values.email) throw new UsageError("user deactivate needs --email");
  const email = values.email;
  return withDb(async (db) => {
    // The user deactivated, their sessions ended and the audit row: one transaction, as on the web.
    const { user, sessionsEnded } = await db.transaction(async (tx) => {
      const user = await findUserByEmail(tx, email);
      const { sessionsEnded } = await deactivateUser(tx, user.id);
      await recordAudit(
        tx,
        cliActor(),
        "user.update",
        { type: "user", id: user.id, label: user.email },
        {
          active: false,
          ...(sessionsEnded > 0 ? { sessionsEnded } : {}),
        },
      );
      return { user, sessionsEnded };
    });
    console.log(`Deactivated ${user.email}; ${sessionsEnded} session${sessionsEnded === 1 ? "" : "s"} ended`);
    return 0;
  });
}

export async function tokenCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === "revoke") return revokeCommand(rest);
  if (action !== "create") throw new UsageError(`Unknown token command: ${action ?? "(none)"}`);
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: "string" }, role: { type: "string" } },
    strict: true,
  });
  if (!values.name) throw new UsageError("token create needs --name");
  const role = values.role ?? "admin";
  if (role !== "admin" && role !== "viewer") throw new UsageError("--role must be admin or viewer");
  const name = values.name;
  return withDb(async (db) => {
    const created = await db.transaction(async (tx) => {
      const token = await createApiToken(tx, name, { role });
      await recordAudit(tx, cliActor(), "token.create", { type: "token", id: token.id, label: token.name }, { role });
      return token;
    });
    console.error(
      `API token "${created.name}" (${created.role}, id ${created.id}) created. It is shown only this once:`,
    );
    console.log(created.token);
    return 0;
  });
}

async function revokeCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [which, ...extra] = positionals;
  if (!which || extra.length) throw new UsageError("token revoke takes one token id or name");
  return withDb(async (db) => {
    const { token, revoked } = await db.transaction(async (tx) => {
      const result = await revokeApiToken(tx, await findTokenId(tx, which));
      // Revoking a revoked token changes nothing, so it is not audited again (as on the web).
      if (result.revoked) {
        await recordAudit(tx, cliActor(), "token.revoke", {
          type: "token",
          id: result.token.id,
          label: result.token.name,
        });
      }
      return result;
    });
    console.log(
      revoked
        ? `Revoked API token "${token.name}" (${token.id})`
        : `API token "${token.name}" (${token.id}) was already revoked`,
    );
    return 0;
  });
}

/** A token by its id, or by its name when exactly one live token (or else one token) has it. */
async function findTokenId(db: Parameters<typeof listApiTokens>[0], which: string): Promise<string> {
  const tokens = await listApiTokens(db);
  const byId = tokens.find((token) => token.id === which);
  if (byId) return byId.id;
  const named = tokens.filter((token) => token.name === which.trim());
  const live = named.filter((token) => !token.revokedAt);
  const candidates = live.length > 0 ? live : named;
  const [only] = candidates;
  if (!only) throw new NotFound(`Token "${which}"`);
  if (candidates.length > 1) {
    throw new Conflict(
      `${candidates.length} tokens are named "${which}"; revoke one by its id: ` +
        candidates.map((token) => token.id).join(", "),
    );
  }
  return only.id;
}
