/**
 * How a text value reads on screen. Strings are shown as text, without JSON quotes, so a few must say what they
 * are to be told apart from SQL NULL, JSON null and an absent value: the empty string, a string of whitespace
 * alone (drawn with visible marks), and one that reads "null".
 */
export type StringLook = {
  /** What to draw. */
  text: string;
  /** A word on what the value is, when the text alone could mislead. */
  note: string | null;
};

const VISIBLE: Record<string, string> = { " ": "·", "\t": "→", "\n": "↵", "\r": "␍" };

export function stringLook(value: string): StringLook {
  if (value === "") return { text: "", note: "empty string" };
  if (value.trim() === "") {
    const text = [...value].map((char) => VISIBLE[char] ?? "␣").join("");
    const spacesOnly = /^ +$/.test(value);
    const count = value.length;
    return {
      text,
      note: spacesOnly ? `${count} space${count === 1 ? "" : "s"}` : `whitespace only, ${count} characters`,
    };
  }
  if (value.trim().toLowerCase() === "null") return { text: value, note: "text, not NULL" };
  return { text: value, note: null };
}

/**
 * The text cut to `limit` characters, at a space when one is near, or null when it is short enough. Counts
 * code points, so a cut never splits a character made of two UTF-16 units.
 */
export function truncatedText(text: string, limit: number): string | null {
  const chars = [...text];
  if (chars.length <= limit + limit / 5) return null;
  const head = chars.slice(0, limit).join("");
  const space = head.lastIndexOf(" ");
  return space > limit * 0.8 ? head.slice(0, space) : head;
}
