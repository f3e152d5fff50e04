/** Which statements carry the context: writes (the default) or every statement. */
export type StatementFilter = "writes" | "all";

// Statements that can change rows. `WITH` may hold a data-modifying CTE; `DO` and `CALL` run code.
const WRITE_KEYWORDS = new Set(["insert", "update", "delete", "merge", "with", "truncate", "copy", "call", "do"]);
const LEADING_NOISE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/;
const FIRST_WORD = /^[a-z]+/i;

/**
 * Whether a statement may write rows, judged by its first keyword after comments and
 * parentheses. A SELECT that calls a writing function is not seen as a write: use
 * `statements: "all"` for such code.
 */
export function isWrite(text: string): boolean {
  const rest = text.replace(LEADING_NOISE, "");
  const word = FIRST_WORD.exec(rest)?.[0]?.toLowerCase();
  return word !== undefined && WRITE_KEYWORDS.has(word);
}
