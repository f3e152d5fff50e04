/** What verifying a database's seals answers (lib/seals/verify.ts): shared with the client. */

/** A change as a failed verification names it. */
export type NamedChange = {
  id: string;
  table: string;
  primaryKey: string | null;
  commitLsn: string;
  seq: number;
};

export type VerifyProblem =
  /** A sealed change's stored bytes differ from what was sealed. */
  | "altered"
  /** A stored change sits where the sealed chain has none. */
  | "inserted"
  /** A sealed change is no longer stored, and no signed expiry covers it. */
  | "removed"
  /** The seals themselves were edited (chain or checkpoint does not match, or a signature is wrong). */
  | "seals-tampered";

export type VerifyResult =
  | {
      ok: true;
      sourceId: string;
      /** Sealed changes re-computed and found intact. */
      verified: number;
      /** The last of them (null when none were). */
      upTo: NamedChange | null;
      /** Changes stored after the chain head: not sealed yet (the sealer runs every second). */
      unsealed: number;
      /**
       * Sealed changes that retention dropped (a validly signed trail_expiries row covers each): their seals still
       * chain, their bytes are gone.
       */
      expired: number;
    }
  | { ok: false; sourceId: string; problem: VerifyProblem; change: NamedChange | null; message: string };

export type DatabaseVerification = VerifyResult & { name: string };
