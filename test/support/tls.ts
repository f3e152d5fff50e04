/** Certificates made with openssl for a TLS-only test server, and the server flags that use them. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export type TestCertificates = {
  dir: string;
  /** The CA that signed the server's certificate (issued for "localhost" only). */
  caFile: string;
  caPem: string;
  /** A second CA, unrelated to the server's certificate. */
  otherCaFile: string;
  otherCaPem: string;
  /** startTestServer flags: ssl on with the server certificate, and a pg_hba.conf accepting only TLS. */
  serverFlags: string[];
  remove(): void;
};

/** A CA and a server certificate it signed for "localhost" only; a second, unrelated CA; TLS-only pg_hba rules. */
export function makeCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-tls-"));
  fs.chmodSync(dir, 0o755);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const days = ["-days", "2"];
  const selfSignedCa = (name: string, subject: string) =>
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      ...days,
      "-subj",
      subject,
    );
  selfSignedCa("ca", "/CN=Retrace Test CA");
  selfSignedCa("other", "/CN=Other CA");
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  );
  fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    ...days,
    "-extfile",
    "san.ext",
  );
  // Only TLS connections, from anywhere local.
  fs.writeFileSync(
    path.join(dir, "pg_hba.conf"),
    "hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n",
  );
  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o644);
  const key = path.join(dir, "server.key");
  fs.chmodSync(key, 0o600);
  // The server runs as the postgres OS user when the tests run as root; the key must be its own.
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    fs.chownSync(key, uid, gid);
  }
  const caFile = path.join(dir, "ca.crt");
  const otherCaFile = path.join(dir, "other.crt");
  return {
    dir,
    caFile,
    caPem: fs.readFileSync(caFile, "utf8"),
    otherCaFile,
    otherCaPem: fs.readFileSync(otherCaFile, "utf8"),
    serverFlags: [
      "-c",
      "ssl=on",
      "-c",
      `ssl_cert_file=${path.join(dir, "server.crt")}`,
      "-c",
      `ssl_key_file=${key}`,
      "-c",
      `hba_file=${path.join(dir, "pg_hba.conf")}`,
    ],
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
