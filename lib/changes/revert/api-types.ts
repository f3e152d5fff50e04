/** JSON shapes of POST /api/reverts as the browser holds them. Type-only: safe to import from client components. */
import type { Jsonified } from "../../api/types";
import type { RevertConflict } from "./plan";
import type { RevertTarget } from "./select";
import type { RevertResult } from "./service";

export type RevertResultJson = Jsonified<RevertResult>;
export type RevertConflictJson = Jsonified<RevertConflict>;
export type RevertTargetJson = RevertTarget;
