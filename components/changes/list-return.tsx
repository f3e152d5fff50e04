"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useSyncExternalStore } from "react";

/**
 * The change list as the reader last left it (its filters are its URL), so a change's page goes back to that
 * list rather than to an unfiltered one, whichever changes were opened in between. Kept for the tab
 * (sessionStorage): a reload of the change page still knows it.
 */
const KEY = "retrace:changes-list";
const LIST = "/changes";

/** Remembers the list's URL while it is shown. Mounted once, in the app's providers. */
export function ListUrlTracker() {
  const pathname = usePathname();
  const search = useSearchParams();
  useEffect(() => {
    if (pathname !== LIST) return;
    const query = search.toString();
    try {
      sessionStorage.setItem(KEY, query ? `${LIST}?${query}` : LIST);
    } catch {
      // Storage can be off (a private window's policy): the way back is then the plain list.
    }
  }, [pathname, search]);
  return null;
}

/**
 * The list this page was opened from, when it was a full page load from it (a row clicked before the list page
 * had hydrated, so the tracker never ran): the referrer is the list's URL (Referrer-Policy same-origin).
 */
function listReferrer(): string | null {
  try {
    const referrer = new URL(document.referrer);
    return referrer.origin === window.location.origin && referrer.pathname === LIST
      ? `${referrer.pathname}${referrer.search}`
      : null;
  } catch {
    return null;
  }
}

function rememberedList(): string {
  try {
    return sessionStorage.getItem(KEY) ?? listReferrer() ?? LIST;
  } catch {
    return listReferrer() ?? LIST;
  }
}

const noSubscription = () => () => {};

/** The list's URL with the reader's filters; the plain list on the server, which cannot know them. */
export function useListHref(): string {
  return useSyncExternalStore(noSubscription, rememberedList, () => LIST);
}

/** Whether a key press belongs to something else: a field being typed in, a modifier, an open dialog. */
function taken(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return true;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) {
    return true;
  }
  return document.querySelector("dialog[open], [role=dialog]") !== null;
}

/** Esc goes back to the list (with its filters). */
export function useEscapeToList() {
  const router = useRouter();
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || taken(event)) return;
      event.preventDefault();
      router.push(rememberedList());
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [router]);
}
