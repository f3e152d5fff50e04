import net from "node:net";
import { expect, test } from "@playwright/test";

/**
 * The web server keeps an idle connection open longer than the clients and proxies that pool connections to it
 * (lib/cli/processes.ts WEB_KEEP_ALIVE_MS). With Node's default (5 s) it closed a connection a pooling client was
 * about to reuse, and the client's request failed with ECONNRESET (seen in e2e/capture-health).
 */

const PORT = Number(process.env.E2E_PORT ?? 3100);
const IDLE_MS = 7_000;

/** Sends one request on the socket and resolves with the response's status line once it has arrived whole. */
function ask(socket: net.Socket, route: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const onData = (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const headEnd = received.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, headEnd));
      const chunkedDone = /\r\ntransfer-encoding: *chunked/i.test(received) && received.endsWith("0\r\n\r\n");
      if ((length && received.length >= headEnd + 4 + Number(length[1])) || chunkedDone) {
        finish();
        resolve(received.slice(0, received.indexOf("\r\n")));
      }
    };
    const onEnd = () => {
      finish();
      reject(new Error(`the server closed the connection before answering ${route}`));
    };
    const finish = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onEnd);
    socket.write(`GET ${route} HTTP/1.1\r\nHost: localhost:${PORT}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

// Unsigned-in, /api/changes answers 401 at once: any answer on the reused connection is what counts.
test("an idle connection is still open after several seconds, and answers", async () => {
  test.setTimeout(60_000);
  const socket = net.connect(PORT, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let closedAt: number | null = null;
  socket.once("close", () => (closedAt = Date.now()));
  try {
    expect(await ask(socket, "/api/changes")).toMatch(/^HTTP\/1\.1 \d{3}/);
    const idleFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    expect(closedAt, "the server closed the idle connection").toBeNull();
    expect(await ask(socket, "/api/changes")).toMatch(/^HTTP\/1\.1 \d{3}/);
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(IDLE_MS);
  } finally {
    socket.destroy();
  }
});
