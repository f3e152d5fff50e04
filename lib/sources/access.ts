import dns from "node:dns";
import net from "node:net";
import { env } from "../env";
import { HostNotAllowed } from "./errors";

/**
 * Which hosts a source connection may reach. The connect form opens a connection to whatever host and port an
 * admin types, from the machine Retrace runs on: without a limit it is a probe of that machine's own services
 * (loopback), of cloud metadata endpoints (link-local, 169.254.169.254), and through a Unix socket directory of a
 * PostgreSQL whose `local` rules trust everyone. These are refused unless the instance allows them
 * (RETRACE_ALLOW_LOCAL_SOURCES, RETRACE_ALLOW_SOCKET_SOURCES). A host name is checked by the addresses it
 * resolves to, at the moment the connection is opened (the socket's own lookup), so a name cannot resolve to a
 * public address for the check and to 127.0.0.1 for the connection.
 */

export type SourceAccess = { allowLocal: boolean; allowSockets: boolean };

export function sourceAccess(): SourceAccess {
  const sources = env.sources;
  return { allowLocal: sources.RETRACE_ALLOW_LOCAL_SOURCES, allowSockets: sources.RETRACE_ALLOW_SOCKET_SOURCES };
}

function blockList(add: (list: net.BlockList) => void): net.BlockList {
  const list = new net.BlockList();
  add(list);
  return list;
}

/** IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) match the IPv4 rules too. */
const LOCAL = [
  {
    kind: "loopback",
    list: blockList((l) => (l.addSubnet("127.0.0.0", 8, "ipv4"), l.addAddress("::1", "ipv6"))),
  },
  {
    kind: "unspecified",
    list: blockList((l) => (l.addSubnet("0.0.0.0", 8, "ipv4"), l.addAddress("::", "ipv6"))),
  },
  {
    kind: "link-local",
    list: blockList((l) => (l.addSubnet("169.254.0.0", 16, "ipv4"), l.addSubnet("fe80::", 10, "ipv6"))),
  },
] as const;

/** How an address is local, or null for one any source may have (private networks such as 10.0.0.0/8 are fine). */
export function localKind(address: string): (typeof LOCAL)[number]["kind"] | null {
  const family = net.isIP(address);
  if (family === 0) return null;
  const type = family === 4 ? "ipv4" : "ipv6";
  return LOCAL.find(({ list }) => list.check(address, type))?.kind ?? null;
}

export function isSocketPath(host: string): boolean {
  return host.startsWith("/");
}

function localRefusal(host: string, address: string, kind: string): HostNotAllowed {
  const resolved = host === address ? address : `${host} (${address})`;
  return new HostNotAllowed(
    `${resolved} is a ${kind} address, and this Retrace instance does not connect to local addresses.`,
    "Connect the database by an address other machines reach it by, or, if Retrace is meant to reach databases " +
      "on its own machine, start it with RETRACE_ALLOW_LOCAL_SOURCES=true.",
  );
}

function socketRefusal(host: string): HostNotAllowed {
  return new HostNotAllowed(
    `"${host}" is a Unix socket directory; this Retrace instance connects to sources over TCP only.`,
    "Give the host name or address the database listens on, or start Retrace with " +
      "RETRACE_ALLOW_SOCKET_SOURCES=true to allow socket directories (they reach the server's `local` pg_hba rules).",
  );
}

/** Refuses what can be refused before any connection: a socket path, a local IP address. Throws HostNotAllowed. */
export function assertHostAllowed(host: string, access: SourceAccess = sourceAccess()): void {
  if (isSocketPath(host)) {
    if (access.allowSockets) return;
    throw socketRefusal(host);
  }
  if (access.allowLocal || !net.isIP(host)) return;
  const kind = localKind(host);
  if (kind) throw localRefusal(host, host, kind);
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net.connect that resolves as Node does and fails when any address the name resolves to is local
 * (a name with one public and one loopback address is refused too: which one is used is not ours to choose).
 */
export function checkedLookup(host: string, access: SourceAccess): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, options.all ? [] : "");
      const local = addresses.map((a) => ({ a, kind: localKind(a.address) })).find((entry) => entry.kind !== null);
      if (local?.kind && !access.allowLocal) return callback(localRefusal(host, local.a.address, local.kind), "");
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "");
      callback(null, first.address, first.family);
    });
  }) as net.LookupFunction;
}

/**
 * The socket node-postgres connects through (its `stream` option): a plain net.Socket whose connect resolves the
 * host with checkedLookup. node-postgres calls `connect(port, host)`, or `connect(path)` for a socket directory.
 */
export function checkedStream(host: string, access: SourceAccess): () => net.Socket {
  return () => {
    const socket = new net.Socket();
    const connect = socket.connect.bind(socket) as (...args: unknown[]) => net.Socket;
    socket.connect = ((...args: unknown[]) => {
      const [port, hostname] = args;
      if (typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port))) {
        return connect({ port: Number(port), host: hostname, lookup: checkedLookup(host, access) });
      }
      if (typeof port === "string" && !access.allowSockets) {
        process.nextTick(() => socket.destroy(socketRefusal(host)));
        return socket;
      }
      return connect(...args);
    }) as typeof socket.connect;
    return socket;
  };
}
