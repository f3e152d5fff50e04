/**
 * Tailwind class lists that several components share, and `classes` to build long ones from short pieces
 * (no line over the print width). Every piece holds whole class names, so Tailwind still finds them all.
 */

/** The pieces joined with spaces. */
export function classes(...pieces: string[]): string {
  return pieces.join(" ");
}

/** Filled indigo button: the main action of a form or page. */
export const primaryButton = classes(
  "rounded-md bg-indigo-600 px-4 py-2",
  "text-sm font-medium text-white",
  "hover:bg-indigo-700 disabled:opacity-60",
);

const outlined = "rounded-md border border-slate-300 bg-white";
const outlinedText = "text-sm font-medium text-slate-700 hover:bg-slate-50";

/** White outlined button: the other actions next to a primary one (Check connection, Load more). */
export const secondaryButton = classes(outlined, "px-4 py-2", outlinedText, "disabled:opacity-60");

/** The secondary button, smaller: actions in a row of a list or a dialog (Pause, Remove, Cancel). */
export const smallSecondaryButton = classes(outlined, "px-3 py-1.5", outlinedText, "disabled:opacity-60");

/** A text input or select. */
export const inputClass = classes(
  "block w-full rounded-md border border-slate-300 bg-white",
  "px-3 py-2 text-sm shadow-sm focus:border-indigo-500",
);
