"use client";

import { useEffect, useEffectEvent } from "react";

/** Where typing goes: keys pressed there are text, not shortcuts. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return (
    target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement
  );
}

/** Enter on a link or a button already does what it says. */
function isActionable(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && target.closest("a, button, summary") !== null;
}

export type ListKeys = {
  next: () => void;
  previous: () => void;
  open: () => void;
  focusFilters: () => void;
};

/**
 * The change list's keys, as in other lists of developer tools: j and k move the selection, Enter opens it, /
 * focuses the filters. Never while the reader types in a field, nor with a modifier held (the browser's own).
 */
export function useListKeyboard(keys: ListKeys) {
  const onKeyDown = useEffectEvent((event: KeyboardEvent) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    if (event.key === "j") keys.next();
    else if (event.key === "k") keys.previous();
    else if (event.key === "/") keys.focusFilters();
    else if (event.key === "Enter" && !isActionable(event.target)) keys.open();
    else return;
    event.preventDefault();
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKeyDown(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);
}
