/**
 * A fix, as the checks and errors give it, is plain text mixing prose ("In the RDS console, set …") and code
 * (SQL, a setting, a shell command). This splits it into runs of each, so prose reads as prose and code sits in
 * a box with a copy button that copies just the code. Client-safe.
 */

export type FixSegment = { kind: "prose" | "code"; text: string };

/** A line that is code: SQL (upper-case keywords, as every fix writes them), a comment, a setting or a command. */
const SQL_START = "ALTER|GRANT|REVOKE|CREATE|DROP|SELECT|SET|RESET|COMMENT|BEGIN|COMMIT|INSERT|UPDATE|DELETE|WITH|SHOW";
const CODE_LINE = new RegExp(
  [
    "^--",
    `^(?:${SQL_START})\\b`,
    "^(?:aws|gcloud|az|psql|pg_ctl|systemctl) ",
    "^(?:host|hostssl|hostnossl|local)\\s",
    "^[a-z_][a-z0-9_.]*\\s*=\\s*\\S+$",
  ].join("|"),
);

export function isCodeLine(line: string): boolean {
  return CODE_LINE.test(line.trim());
}

export function splitFix(text: string): FixSegment[] {
  const segments: FixSegment[] = [];
  let blank = false;
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trimEnd();
    if (line.trim() === "") {
      blank = true;
      continue;
    }
    const kind = isCodeLine(line) ? "code" : "prose";
    const last = segments.at(-1);
    if (last && last.kind === kind && !(kind === "prose" && blank)) {
      // A blank line inside code stays (it separates blocks of statements); prose paragraphs split at one.
      last.text += (blank ? "\n\n" : "\n") + line;
    } else {
      segments.push({ kind, text: line });
    }
    blank = false;
  }
  return segments;
}
