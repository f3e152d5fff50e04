"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, useSyncExternalStore, type RefObject } from "react";
import type { ChangeJson } from "@/lib/changes/api-types";
import type { FilterValues } from "@/lib/changes/filters";
import { changeQueries } from "@/lib/query/changes";

/** How far the list's top may have scrolled out of view while the reader is still "at the top". */
const TOP_SLACK_PX = 48;

function subscribeScroll(onChange: () => void) {
  window.addEventListener("scroll", onChange, { passive: true });
  window.addEventListener("resize", onChange);
  return () => {
    window.removeEventListener("scroll", onChange);
    window.removeEventListener("resize", onChange);
  };
}

/** Whether the top of `element` is on screen: the reader sees the newest rows, and new ones may go above them. */
function useAtTop(element: RefObject<HTMLElement | null>): boolean {
  return useSyncExternalStore(
    subscribeScroll,
    () => (element.current ? element.current.getBoundingClientRect().top >= -TOP_SLACK_PX : true),
    () => true,
  );
}

export type LiveTailState = {
  /** New changes shown above the list, newest first. */
  shown: ChangeJson[];
  /** New changes held back while the reader is scrolled down ("N new changes"). */
  pending: number;
  paused: boolean;
  /** More arrived than a tail holds: the list must be read again. */
  behind: boolean;
  /** The tail cannot start: the list's answer had no live token. */
  unavailable: boolean;
  error: string | null;
  setPaused: (paused: boolean) => void;
  /** Shows the held-back changes (and scrolls to them). */
  reveal: () => void;
  /** Reads the list again from its newest page and starts a new tail. */
  restart: () => void;
};

/**
 * The live tail of a list (lib/query/changes.ts changeQueries.live): new changes go on top while the reader looks
 * at the top; once they scroll down, new changes are held back and counted, so nothing moves under their eyes.
 * `base` is the list's first page's live token.
 */
export function useLiveTail(
  filters: FilterValues,
  base: string | null,
  listTop: RefObject<HTMLElement | null>,
): LiveTailState {
  const queryClient = useQueryClient();
  const [paused, setPaused] = useState(false);
  const query = useQuery({ ...changeQueries.live(filters), enabled: !paused && base !== null });
  const tail = query.data?.base === base ? query.data : undefined;
  const arrived = tail?.changes ?? [];

  // How many of the arrived changes (the oldest ones) are shown; a new tail starts at none.
  const [revealed, setRevealed] = useState<{ base: string | null; count: number }>({ base, count: 0 });
  const count = revealed.base === base ? Math.min(revealed.count, arrived.length) : 0;
  const atTop = useAtTop(listTop);
  // Paused, nothing moves: an answer that was on its way when the reader paused is held back with the rest.
  if (atTop && !paused && count < arrived.length) setRevealed({ base, count: arrived.length });

  const reveal = useCallback(() => {
    setRevealed({ base, count: arrived.length });
    listTop.current?.scrollIntoView({ block: "start" });
  }, [base, arrived.length, listTop]);

  const restart = useCallback(() => {
    const { queryKey } = changeQueries.list(filters);
    queryClient.removeQueries({ queryKey: changeQueries.live(filters).queryKey });
    queryClient.setQueryData(queryKey, (data) =>
      data ? { pages: data.pages.slice(0, 1), pageParams: data.pageParams.slice(0, 1) } : data,
    );
    void queryClient.refetchQueries({ queryKey });
    window.scrollTo({ top: 0 });
  }, [queryClient, filters]);

  return {
    shown: arrived.slice(arrived.length - count),
    pending: arrived.length - count,
    paused,
    behind: tail?.more ?? false,
    unavailable: base === null,
    error: query.isError ? query.error.message : null,
    setPaused,
    reveal,
    restart,
  };
}
