"use client";

import type { ReactNode } from "react";
import { secondaryButton } from "./classes";

/** The part of TanStack Query's infinite query result a keyset pager reads. */
type NextPages = {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
  error: Error | null;
  fetchNextPage: () => Promise<unknown>;
};

/**
 * The button under a keyset-paged list that reads its next page, and what it says when that fails. `end` is shown
 * once there is nothing more (e.g. "That is the oldest change"), `failed` names what could not be read.
 */
export function LoadMore({
  query,
  label = "Load more",
  failed,
  end = null,
  className = "",
}: {
  query: NextPages;
  label?: string;
  failed: string;
  end?: ReactNode;
  className?: string;
}) {
  return (
    <>
      {query.hasNextPage ? (
        <button
          type="button"
          onClick={() => void query.fetchNextPage()}
          disabled={query.isFetchingNextPage}
          className={`${secondaryButton} ${className}`}
        >
          {query.isFetchingNextPage ? "Loading…" : label}
        </button>
      ) : (
        end
      )}
      {query.isFetchNextPageError ? (
        <p role="alert" className="text-sm text-red-700">
          Could not load {failed}: {query.error?.message}
        </p>
      ) : null}
    </>
  );
}
