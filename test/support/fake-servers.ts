/**
 * TCP servers on 127.0.0.1 that are not (quite) PostgreSQL, to point the connect form at: one that completes the
 * start-up and then never answers a query, and one that answers anything with text of its own (an HTTP server, a
 * banner). They speak just enough of the protocol for that (an SSLRequest is declined with "N").
 */
import net from "node:net";

export type FakeServer = { port: number; connections(): number; close(): Promise<void> };

const SSL_REQUEST = 80877103;

async function listen(onConnection: (socket: net.Socket) => void): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    connections: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads length-prefixed start-up packets (SSLRequest, StartupMessage) and calls `onStartup` after the real one. */
function onStartupPackets(socket: net.Socket, onStartup: () => void): void {
  let buffer = Buffer.alloc(0);
  let started = false;
  socket.on("data", (chunk: Buffer) => {
    if (started) return; // a query after start-up: never answered
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 8) {
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return;
      const code = buffer.readInt32BE(4);
      buffer = buffer.subarray(length);
      if (code === SSL_REQUEST) {
        socket.write("N");
        continue;
      }
      started = true;
      onStartup();
      return;
    }
  });
}

/** Completes the start-up (AuthenticationOk, ReadyForQuery) and then never says anything again. */
export function startSilentServer(): Promise<FakeServer> {
  return listen((socket) =>
    onStartupPackets(socket, () => {
      const authOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
      socket.write(Buffer.concat([authOk, ready]));
    }),
  );
}

/** Answers whatever it is sent with `reply` (then closes, or not). */
export function startChattyServer(reply: string | Buffer, options: { close?: boolean } = {}): Promise<FakeServer> {
  return listen((socket) => {
    socket.once("data", () => {
      socket.write(reply);
      if (options.close ?? true) socket.end();
    });
  });
}
