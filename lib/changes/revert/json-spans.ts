/**
 * The raw text of each member of a JSON object or array, as written. A stored row image keeps numbers with every
 * digit and json values byte for byte; reading the members' text (instead of parsing and re-printing them) is
 * what lets a revert write back exactly what was there. The input must be valid JSON (images are).
 */

function skipSpace(text: string, at: number): number {
  let position = at;
  while (position < text.length && /\s/.test(text.charAt(position))) position++;
  return position;
}

/** Where the string starting at `at` (its opening quote) ends: one past the closing quote. */
function stringEnd(text: string, at: number): number {
  let position = at + 1;
  while (position < text.length) {
    const char = text.charAt(position);
    if (char === "\\") position += 2;
    else if (char === '"') return position + 1;
    else position++;
  }
  throw new SyntaxError("unterminated string in JSON");
}

/** One past the end of the value starting at `at`. */
function valueEnd(text: string, at: number): number {
  const first = text.charAt(at);
  if (first === '"') return stringEnd(text, at);
  if (first !== "{" && first !== "[") {
    let position = at;
    while (position < text.length && !/[\s,\]}]/.test(text.charAt(position))) position++;
    if (position === at) throw new SyntaxError(`unexpected ${JSON.stringify(first)} in JSON`);
    return position;
  }
  let depth = 0;
  let position = at;
  while (position < text.length) {
    const char = text.charAt(position);
    if (char === '"') {
      position = stringEnd(text, position);
      continue;
    }
    if (char === "{" || char === "[") depth++;
    else if (char === "}" || char === "]") {
      depth--;
      if (depth === 0) return position + 1;
    }
    position++;
  }
  throw new SyntaxError("unterminated JSON value");
}

/** The members of a JSON container: [key or null, raw value text] in order. */
function members(text: string, open: "{" | "["): Array<[string | null, string]> {
  const close = open === "{" ? "}" : "]";
  let position = skipSpace(text, 0);
  if (text.charAt(position) !== open) throw new SyntaxError(`expected ${open} in JSON`);
  position = skipSpace(text, position + 1);
  const found: Array<[string | null, string]> = [];
  if (text.charAt(position) === close) return found;
  for (;;) {
    let key: string | null = null;
    if (open === "{") {
      const keyEnd = stringEnd(text, position);
      key = JSON.parse(text.slice(position, keyEnd)) as string;
      position = skipSpace(text, keyEnd);
      if (text.charAt(position) !== ":") throw new SyntaxError("expected : in JSON");
      position = skipSpace(text, position + 1);
    }
    const end = valueEnd(text, position);
    found.push([key, text.slice(position, end)]);
    position = skipSpace(text, end);
    const next = text.charAt(position);
    if (next === close) return found;
    if (next !== ",") throw new SyntaxError("expected , in JSON");
    position = skipSpace(text, position + 1);
  }
}

/** A JSON object's members by key, each as its raw value text (a repeated key keeps the last, as JSON.parse). */
export function objectSpans(text: string): Map<string, string> {
  return new Map(members(text, "{").map(([key, value]) => [key ?? "", value]));
}

/** A JSON array's elements, each as its raw text. */
export function arraySpans(text: string): string[] {
  return members(text, "[").map(([, value]) => value);
}
