/**
 * JSON shapes of /api/changes as the browser holds them: the server's types through Jsonified (row images and
 * context parsed without losing a digit). Type-only: safe to import from client components.
 */
import type { Jsonified } from "../api/types";
import type { Change, ChangeDetail, ChangePage } from "./queries";
import type { TransactionPage } from "./transaction";

export type ChangeJson = Jsonified<Change>;
export type ChangePageJson = Jsonified<ChangePage>;
export type ChangeDetailJson = Jsonified<ChangeDetail>;
export type TransactionPageJson = Jsonified<TransactionPage>;
