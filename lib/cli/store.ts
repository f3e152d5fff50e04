import { withAbsoluteTlsFiles } from "../db/connection";
import { env as processEnv, type CliEnv } from "../env";
import { startEmbeddedStore } from "../store/embedded";
import { resolveSecret } from "../store/secret";

export type ResolvedStore = {
  env: CliEnv;
  url: string;
  secret: string;
  embedded: boolean;
  /** Stops the embedded server if this process started it; a no-op otherwise. */
  release(): Promise<void>;
};

/**
 * Finds the store: DATABASE_URL when set, otherwise the embedded server in the data dir
 * (attaching to the one a running `retrace start` holds, or starting it).
 */
export async function resolveStore(log: (line: string) => void): Promise<ResolvedStore> {
  const env = processEnv.cli;
  const secret = resolveSecret(env.dataDir, env.RETRACE_SECRET);
  if (env.DATABASE_URL) {
    const url = withAbsoluteTlsFiles(env.DATABASE_URL);
    return { env, url, secret, embedded: false, release: async () => {} };
  }
  const server = await startEmbeddedStore({
    dataDir: env.dataDir,
    port: env.RETRACE_STORE_PORT,
    log: (line) => {
      if (/FATAL|PANIC|ERROR/.test(line)) log(`[store] ${line.trim()}`);
    },
  });
  log(
    server.attached
      ? `Using the embedded store already running on port ${server.port}.`
      : `Embedded store running on port ${server.port} (data in ${env.dataDir}).`,
  );
  return { env, url: server.url, secret, embedded: true, release: () => server.stop() };
}
