/**
 * The connect form's SSL settings: the mode, what each mode really does, and the CA certificate (pasted or
 * read from a file) that verify-full checks the server against.
 */
import { useState, type ChangeEvent } from "react";
import { classes, inputClass } from "@/components/ui/classes";
import { SelectField } from "./fields";

/** The SSL modes as the connect and edit forms offer them. */
export const SSL_OPTIONS = [
  { value: "prefer", label: "Prefer (SSL if offered, else unencrypted)" },
  { value: "require", label: "Require (encrypted, any certificate)" },
  { value: "verify-full", label: "Verify full (encrypted, certificate and host checked)" },
  { value: "disable", label: "Disable (no SSL)" },
];

/** What each SSL mode really does, shown under the select. */
const SSL_EXPLAINED: Record<string, string> = {
  prefer:
    "Encrypts when the server offers SSL, and silently falls back to an unencrypted connection when it does not. " +
    "The certificate is not checked.",
  require:
    "Always encrypted (fails when the server has no SSL), but any certificate is accepted: it stops eavesdropping, " +
    "not someone posing as your server.",
  "verify-full":
    "Encrypted, and the server must show a certificate signed by a CA you trust (the one below, or a public CA) " +
    "and issued for exactly this host name. Recommended.",
  disable: "No encryption: data and the password cross the network in clear. Only for a private network.",
};

/** Always rendered by the form, so a note about a chosen CA file outlives switching the mode away and back. */
export function SslFields({
  sslMode,
  sslRootCert,
  set,
  fieldErrors,
}: {
  sslMode: string;
  sslRootCert: string;
  set: (key: "sslMode" | "sslRootCert") => (value: string) => void;
  fieldErrors: Record<string, string>;
}) {
  const [caFileNote, setCaFileNote] = useState<string | null>(null);

  async function readCaFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > 200_000) {
      setCaFileNote(`${file.name} is too large for a CA certificate.`);
      return;
    }
    set("sslRootCert")(await file.text());
    setCaFileNote(`Read ${file.name}.`);
  }

  return (
    <>
      <SelectField
        id="ssl-mode"
        label="SSL mode"
        value={sslMode}
        onChange={(e) => set("sslMode")(e.target.value)}
        error={fieldErrors.sslMode}
        hint={SSL_EXPLAINED[sslMode]}
      >
        {SSL_OPTIONS.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </SelectField>

      {sslMode === "verify-full" ? (
        <div className="space-y-1">
          <label htmlFor="ssl-root-cert" className="block text-sm font-medium text-slate-700">
            CA certificate
          </label>
          <textarea
            id="ssl-root-cert"
            rows={4}
            value={sslRootCert}
            onChange={(e) => set("sslRootCert")(e.target.value)}
            placeholder={"-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----"}
            aria-invalid={fieldErrors.sslRootCert ? true : undefined}
            aria-describedby="ssl-root-cert-note"
            className={classes(inputClass, "font-mono text-xs")}
            spellCheck={false}
            autoComplete="off"
          />
          <div className="flex flex-wrap items-center gap-2">
            <label htmlFor="ssl-root-cert-file" className="text-xs font-medium text-slate-700">
              Or choose the file:
            </label>
            <input
              id="ssl-root-cert-file"
              type="file"
              accept=".pem,.crt,.cer,application/x-pem-file,application/x-x509-ca-cert"
              onChange={(e) => void readCaFile(e)}
              className={classes(
                "min-w-0 max-w-full text-xs text-slate-600",
                "file:mr-2 file:rounded file:border-0 file:bg-slate-100 file:px-2 file:py-1",
              )}
            />
          </div>
          <p
            id="ssl-root-cert-note"
            className={`text-xs ${fieldErrors.sslRootCert ? "text-red-700" : "text-slate-500"}`}
          >
            {fieldErrors.sslRootCert ??
              caFileNote ??
              "Optional: the PEM certificate of the CA that signed the server's certificate (public, not a key). " +
                "Empty: public CAs only."}
          </p>
        </div>
      ) : null}
    </>
  );
}
