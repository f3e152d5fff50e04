import { describe, expect, it } from "vitest";
import { assertHostAllowed, localKind, type SourceAccess } from "./access";
import { SourceError } from "./errors";

describe("localKind", () => {
  it("knows loopback, unspecified and link-local addresses, IPv4 and IPv6, and nothing else", () => {
    for (const address of ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) {
      expect(localKind(address), address).toBe("loopback");
    }
    for (const address of ["0.0.0.0", "0.1.2.3", "::"]) expect(localKind(address), address).toBe("unspecified");
    for (const address of ["169.254.169.254", "fe80::1", "febf::1"])
      expect(localKind(address), address).toBe("link-local");
    for (const address of [
      "10.0.0.1",
      "192.168.1.2",
      "172.16.0.1",
      "8.8.8.8",
      "2001:db8::1",
      "fec0::1",
      "db.example",
    ]) {
      expect(localKind(address), address).toBeNull();
    }
  });
});

/** The error assertHostAllowed throws, as the API answers it: message and fix. */
function refusal(host: string, access: SourceAccess): string | null {
  try {
    assertHostAllowed(host, access);
    return null;
  } catch (error) {
    return error instanceof SourceError ? `${error.message} ${error.fix ?? ""}` : String(error);
  }
}

describe("assertHostAllowed", () => {
  const none = { allowLocal: false, allowSockets: false };
  it("refuses socket paths unless sockets are allowed, whatever the local setting", () => {
    expect(refusal("/var/run/postgresql", { allowLocal: true, allowSockets: false })).toMatch(
      /Unix socket directory.*RETRACE_ALLOW_SOCKET_SOURCES=true/,
    );
    expect(refusal("/var/run/postgresql", { allowLocal: false, allowSockets: true })).toBeNull();
  });

  it("refuses local IP addresses unless local sources are allowed; names are left to the lookup", () => {
    expect(refusal("127.0.0.1", none)).toMatch(/loopback address.*RETRACE_ALLOW_LOCAL_SOURCES=true/);
    expect(refusal("127.0.0.1", { ...none, allowLocal: true })).toBeNull();
    expect(refusal("10.1.2.3", none)).toBeNull();
    expect(refusal("localhost", none)).toBeNull();
  });
});
