import type { Jsonified } from "../api/types";
import type { AuditEvent } from "../audit/list";
import type { ApiTokenRow } from "./tokens";
import type { UserSummary } from "./users";

/** The team routes' answers as the browser reads them (GET/POST /api/users, /api/tokens, GET /api/audit). */
export type UserJson = Jsonified<UserSummary>;
export type UsersResponse = { users: UserJson[] };
export type UserResponse = { user: UserJson };
export type UpdateUserResponse = { user: UserJson; sessionsEnded: number };

export type TokenJson = Jsonified<Omit<ApiTokenRow, "createdBy"> & { createdByEmail: string | null }>;
export type TokensResponse = { tokens: TokenJson[] };
export type CreatedTokenResponse = { token: Pick<TokenJson, "id" | "name" | "role">; secret: string };
export type RevokedTokenResponse = { token: Omit<TokenJson, "createdByEmail"> };

export type AuditEventJson = AuditEvent;
export type AuditPageResponse = { events: AuditEventJson[]; nextCursor: string | null };
