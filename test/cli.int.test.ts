import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupCode } from "../lib/auth/setup-code";
import { freePort, startTestServer, type TestServer } from "./support/postgres";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/retrace.mjs");

/** Runs the command line to its end; `input` is what it reads on stdin (a password, say). */
function retrace(args: string[], env: Record<string, string | undefined>, input = "") {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: undefined, RETRACE_SECRET: undefined, ...env },
    input,
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function postmasterAlive(dataDir: string): boolean {
  const pidFile = path.join(dataDir, "pg", "postmaster.pid");
  if (!fs.existsSync(pidFile)) return false;
  try {
    process.kill(Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]), 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of `parent`'s child processes running the worker bundle. */
function workerChildren(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4, after the command name in parentheses, is the parent pid.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("worker.mjs"))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/**
 * Nothing in the data dir (the instance secret, the store's password, the store's files and log) may be read or
 * written by anyone but its owner (the `postgres` OS user owns pg/ when Retrace runs as root). The data dir itself
 * lets others only pass through, when the store runs as `postgres`; otherwise it is its owner's alone.
 */
function expectOwnerOnly(dataDir: string) {
  const mode = fs.statSync(dataDir).mode & 0o777;
  expect(mode.toString(8)).toBe(process.getuid?.() === 0 ? "711" : "700");
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      expect((fs.statSync(full).mode & 0o077).toString(8), full).toBe("0");
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dataDir);
}

describe("retrace command line", () => {
  let dataDir: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-cli-"));
    env = { RETRACE_DATA_DIR: dataDir, RETRACE_STORE_PORT: String(await freePort()), LOG_LEVEL: "warn" };
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("prints usage and exits 2 for unknown commands and bad flags", () => {
    for (const args of [
      [],
      ["bogus"],
      ["user", "create", "--email", "a@b.c", "--nope"],
      ["token", "create"],
      ["token", "revoke"],
      ["user", "create", "--email", "a@b.c", "--role", "root"],
      ["user", "deactivate"],
    ]) {
      const result = retrace(args, env);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toContain("Usage: retrace <command>");
    }
  });

  it("refuses to start with a bad RETRACE_TRUSTED_PROXIES, naming it, before it starts anything", () => {
    for (const value of ["two", "-1", "11"]) {
      const result = retrace(["start"], { ...env, RETRACE_TRUSTED_PROXIES: value });
      expect(result.status, value).toBe(1);
      expect(result.stderr).toContain("RETRACE_TRUSTED_PROXIES must be a whole number of proxies from 0 to 10");
      expect(postmasterAlive(dataDir)).toBe(false);
    }
  });

  it("is the package's bin, so npx retrace works in the checkout", () => {
    const result = spawnSync("npx", ["--no-install", "retrace", "help"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("user create --email E [--role admin|viewer]");
    expect(result.stdout).toContain("token revoke <id|name>");
  });

  it("works against the embedded store, starting it only for the command", () => {
    expect(retrace(["migrate"], env).status).toBe(0);
    // While nobody can sign in, /setup takes the code derived from the instance's secret.
    const code = retrace(["setup-code"], env);
    expect(code.status, code.stderr).toBe(0);
    expect(code.stdout.trim()).toBe(setupCode(fs.readFileSync(path.join(dataDir, "secret"), "utf8").trim()));
    const created = retrace(["user", "create", "--email", "Admin@Example.com", "--role", "admin"], env, "secret123\n");
    expect(created.status).toBe(0);
    expect(created.stdout).toContain("Created admin admin@example.com");

    const duplicate = retrace(["user", "create", "--email", "admin@example.com"], env, "secret123\n");
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toContain("already exists");

    const invalid = retrace(["user", "create", "--email", "nope"], env, "short");
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain("valid email");

    const setupDone = retrace(["setup-code"], env);
    expect(setupDone.status).toBe(1);
    expect(setupDone.stderr).toContain("setup is complete");
    expect(setupDone.stdout).toBe("");

    const token = retrace(["token", "create", "--name", "ci"], env);
    expect(token.status).toBe(0);
    expect(token.stdout.trim()).toMatch(/^rt_[A-Za-z0-9_-]{40,}$/);

    // A password in the arguments is in every user's process list (and the shell's history): refused.
    for (const flag of [["--password", "secret123"], ["--password=secret123"]]) {
      const refused = retrace(["user", "create", "--email", "argv@example.com", ...flag], env);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain("the process list would show the password");
    }
    const empty = retrace(["user", "create", "--email", "argv@example.com"], env, "");
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain("No password on stdin");
    expect(retrace(["user", "deactivate", "--email", "argv@example.com"], env).stderr).toContain("not found");

    // The server was started for each command and stopped afterwards; the secret was kept.
    expect(postmasterAlive(dataDir)).toBe(false);
    expect(fs.statSync(path.join(dataDir, "secret")).mode & 0o077).toBe(0);
    expectOwnerOnly(dataDir);

    // A secret or store password made readable to others (a restored backup, say) is closed again at the next command.
    for (const file of ["secret", "store.json"]) fs.chmodSync(path.join(dataDir, file), 0o644);
    expect(retrace(["migrate"], env).status).toBe(0);
    expectOwnerOnly(dataDir);
  });

  it("reads the password at a prompt that does not echo it, twice", async () => {
    // `script` gives the command a terminal; each line is typed once its prompt shows.
    const command = [process.execPath, bin, "user", "create", "--email", "typed@example.com"]
      .map((arg) => `'${arg}'`)
      .join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: undefined, RETRACE_SECRET: undefined, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await expect.poll(() => output, { timeout: 60_000 }).toContain("Password: ");
    child.stdin.write("typed-secret-1\r");
    await expect.poll(() => output, { timeout: 10_000 }).toContain("Password again: ");
    child.stdin.write("typed-secret-1\r");
    expect(await exited, output).toBe(0);
    expect(output).toContain("Created viewer typed@example.com");
    expect(output).not.toContain("typed-secret-1");
  });

  it("revokes a token by id or by name", () => {
    const created = retrace(["token", "create", "--name", "deploys"], env);
    const id = /id ([0-9a-f-]{36})/.exec(created.stderr)?.[1] ?? "";
    expect(id).not.toBe("");
    const byName = retrace(["token", "revoke", "deploys"], env);
    expect(byName.status, byName.stderr).toBe(0);
    expect(byName.stdout).toContain(`Revoked API token "deploys" (${id})`);
    const again = retrace(["token", "revoke", id], env);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("was already revoked");

    retrace(["token", "create", "--name", "twin"], env);
    retrace(["token", "create", "--name", "twin"], env);
    const ambiguous = retrace(["token", "revoke", "twin"], env);
    expect(ambiguous.status).toBe(1);
    expect(ambiguous.stderr).toContain('2 tokens are named "twin"; revoke one by its id');
    const unknown = retrace(["token", "revoke", "nope"], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('Token "nope" not found.');
  });

  it("restarts a worker that dies, and stops it and the embedded store cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, [bin, "worker"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: undefined, RETRACE_SECRET: undefined, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await expect.poll(() => postmasterAlive(dataDir), { timeout: 30_000 }).toBe(true);

    // A worker that dies is started again; the command and the store stay up.
    const pid = child.pid ?? 0;
    await expect.poll(() => workerChildren(pid).length, { timeout: 30_000 }).toBe(1);
    const [first] = workerChildren(pid);
    process.kill(first ?? 0, "SIGKILL");
    await expect
      .poll(() => output, { timeout: 10_000 })
      .toContain("worker exited unexpectedly (SIGKILL); starting it again in 1 s");
    await expect.poll(() => workerChildren(pid).filter((p) => p !== first).length, { timeout: 10_000 }).toBe(1);
    expect(child.exitCode).toBeNull();

    // Another command attaches to the store the running process holds.
    const attached = retrace(["user", "create", "--email", "viewer@example.com"], env, "secret123");
    expect(attached.status, attached.stderr).toBe(0);
    expect(attached.stderr).toContain("already running");

    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exit, output).toBe(0);
    expect(postmasterAlive(dataDir)).toBe(false);
  });

  describe("with DATABASE_URL", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server.stop());

    it("uses that PostgreSQL instead of the embedded store", async () => {
      const url = await server.createDatabase("retrace_cli");
      const external = { ...env, DATABASE_URL: url, RETRACE_DATA_DIR: path.join(dataDir, "external") };
      expect(retrace(["migrate"], external).status).toBe(0);
      expect(retrace(["user", "create", "--email", "ext@example.com"], external, "secret123\n").status).toBe(0);
      const deactivated = retrace(["user", "deactivate", "--email", "Ext@Example.com"], external);
      expect(deactivated.status, deactivated.stderr).toBe(0);
      expect(deactivated.stdout).toContain("Deactivated ext@example.com; 0 sessions ended");
      const unknown = retrace(["user", "deactivate", "--email", "nobody@example.com"], external);
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain("User nobody@example.com not found.");
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ email: string; password_hash: string; active: boolean }>(
        "select email, password_hash, active from users",
      );
      await client.end();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.email).toBe("ext@example.com");
      expect(rows[0]?.password_hash).not.toContain("secret123");
      expect(rows[0]?.active).toBe(false);
      expect(fs.existsSync(path.join(dataDir, "external", "pg"))).toBe(false);
    });
  });
});
