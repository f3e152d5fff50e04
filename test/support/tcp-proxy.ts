/**
 * A TCP proxy on 127.0.0.1 in front of one server, to cut the network between a client (the
 * worker) and that server in tests. All traffic stays on loopback.
 */
import net from "node:net";

export type CutMode =
  /** Every open connection is reset and new ones are refused: a firewall or NAT dropping state. */
  | "reset"
  /**
   * Nothing is forwarded any more, in either direction, and new connections are accepted but
   * not connected through: a silent partition (pulled cable). Open connections survive it and
   * carry on, with what was sent in the meantime, after restore().
   */
  | "blackhole";

export type TcpProxy = {
  port: number;
  cut(mode?: CutMode): void;
  restore(): void;
  /** Connections currently open through the proxy. */
  connections(): number;
  close(): Promise<void>;
};

type Link = { client: net.Socket; upstream: net.Socket | null };

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let state: "open" | CutMode = "open";

  const drop = (link: Link) => {
    links.delete(link);
    link.client.destroy();
    link.upstream?.destroy();
  };

  const connectThrough = (link: Link) => {
    const upstream = net.connect({ host: target.host, port: target.port });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on("error", () => drop(link));
    upstream.on("close", () => drop(link));
    link.client.pipe(upstream);
    upstream.pipe(link.client);
    link.client.resume();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    if (state === "reset") {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: null };
    links.add(link);
    client.setNoDelay(true);
    client.on("error", () => drop(link));
    client.on("close", () => drop(link));
    // During a blackhole the connection waits, unanswered, for restore().
    if (state === "open") connectThrough(link);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");

  return {
    port: address.port,
    cut(mode = "reset") {
      state = mode;
      for (const link of [...links]) {
        if (mode === "reset") {
          links.delete(link);
          link.client.resetAndDestroy();
          link.upstream?.resetAndDestroy();
        } else {
          // Stop reading on both sides: nothing crosses until restore().
          link.client.pause();
          link.upstream?.pause();
          link.client.unpipe();
          link.upstream?.unpipe();
        }
      }
    },
    restore() {
      const wasBlackhole = state === "blackhole";
      state = "open";
      if (!wasBlackhole) return;
      for (const link of links) {
        if (!link.upstream) {
          connectThrough(link);
          continue;
        }
        link.client.pipe(link.upstream);
        link.upstream.pipe(link.client);
        link.client.resume();
        link.upstream.resume();
      }
    },
    connections: () => links.size,
    async close() {
      for (const link of [...links]) drop(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
