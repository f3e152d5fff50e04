/**
 * The closed list of what Retrace audits of itself, done on the web or on the command line (lib/cli: the actor's
 * kind says which). A new write route or command adds its action here; the Activity page
 * and GET /api/audit?action= take exactly these (or a group: `database` for every database.* action).
 */
export const AUDIT_ACTIONS = [
  "database.connect",
  "database.update",
  "database.remove",
  "database.tables",
  "database.identity",
  "database.columns",
  "database.verify",
  "user.create",
  "user.update",
  "token.create",
  "token.revoke",
  "revert.execute",
  "baseline.start",
  "retention.update",
  "archive.import",
  "hold.create",
  "hold.release",
  "session.sign_in",
  "session.sign_in_failed",
  "session.sign_out",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_GROUPS = [...new Set(AUDIT_ACTIONS.map((action) => action.split(".")[0] ?? action))];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

/** How the Activity page says each action. */
export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  "database.connect": "connected a database",
  "database.update": "changed a database",
  "database.remove": "removed a database",
  "database.tables": "changed the tracked tables of",
  "database.identity": "set REPLICA IDENTITY FULL on a table of",
  "database.columns": "changed the column rules of",
  "database.verify": "verified the trail of",
  "user.create": "created a user",
  "user.update": "changed a user",
  "token.create": "created an API token",
  "token.revoke": "revoked an API token",
  "revert.execute": "ran a revert on",
  "baseline.start": "started a baseline of",
  "retention.update": "changed the retention rules",
  "archive.import": "imported an archive of",
  "hold.create": "placed a hold on the trail of",
  "hold.release": "released a hold on the trail of",
  "session.sign_in": "signed in",
  "session.sign_in_failed": "failed to sign in",
  "session.sign_out": "signed out",
};
