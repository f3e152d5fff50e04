import type { Jsonified } from "../api/types";

/** A hold as GET /api/holds answers it. Client-safe. */
export type Hold = {
  id: string;
  database: { id: string; name: string; environment: string; removed: boolean };
  /** Commit times held: [from, to). */
  from: Date;
  to: Date;
  reason: string;
  createdBy: string;
  createdAt: Date;
  /** Null while it holds. */
  releasedAt: Date | null;
  releasedBy: string | null;
};

export type HoldJson = Jsonified<Hold>;
export type HoldsJson = { holds: HoldJson[] };
