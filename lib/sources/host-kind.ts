/**
 * The kinds of PostgreSQL host Retrace knows how to advise about, how one is recognised, and the exact fix for a
 * failed connect check on each. Client-safe (no server imports): the connect form shows the kind it detects.
 *
 * A fix is text whose lines are either prose or code (SQL, a setting, a command); lib/sources/fix-text.ts tells
 * them apart, so the form shows prose as prose and code in a box with a copy button.
 */

export const HOST_KINDS = ["self-managed", "rds", "neon", "supabase", "cloud-sql", "azure", "other"] as const;
export type HostKind = (typeof HOST_KINDS)[number];

export const HOST_KIND_LABELS: Record<HostKind, string> = {
  "self-managed": "Self-managed PostgreSQL",
  rds: "Amazon RDS / Aurora",
  neon: "Neon",
  supabase: "Supabase",
  "cloud-sql": "Google Cloud SQL",
  azure: "Azure Database for PostgreSQL",
  other: "Other managed service",
};

const NAME_PATTERNS: [RegExp, HostKind][] = [
  [/\.rds\.amazonaws\.com(\.cn)?$/i, "rds"],
  [/\.neon\.(tech|build)$/i, "neon"],
  [/(^|\.)(supabase\.co|supabase\.com)$/i, "supabase"],
  [/\.postgres\.database\.azure\.com$/i, "azure"],
  [/\.postgres\.database\.(chinacloudapi\.cn|usgovcloudapi\.net)$/i, "azure"],
  // Cloud SQL: Private Service Connect DNS names, and the Auth Proxy's unix socket directory.
  [/\.sql\.goog\.?$/i, "cloud-sql"],
  [/^\/cloudsql\//i, "cloud-sql"],
];

/** The kind a host name gives away, or null when it does not (an IP address, a private name). */
export function hostKindFromName(host: string): HostKind | null {
  const name = host.trim().replace(/\.$/, "");
  for (const [pattern, kind] of NAME_PATTERNS) if (pattern.test(name)) return kind;
  return null;
}

/** What the server itself says about its kind (settings and roles only the provider installs). */
export type ServerMarks = {
  /** Names of provider settings present in pg_settings (see SERVER_MARK_SETTINGS). */
  settings: readonly string[];
  /** Names of provider roles present in pg_roles (see SERVER_MARK_ROLES). */
  roles: readonly string[];
};

export const SERVER_MARK_SETTINGS = [
  "rds.logical_replication",
  "rds.extensions",
  "cloudsql.logical_decoding",
  "cloudsql.iam_authentication",
  "azure.extensions",
  "neon.timeline_id",
  "neon.tenant_id",
] as const;
export const SERVER_MARK_ROLES = [
  "rds_superuser",
  "cloudsqlsuperuser",
  "azure_pg_admin",
  "neon_superuser",
  "supabase_admin",
];

export function hostKindFromServer(marks: ServerMarks): HostKind | null {
  const setting = (prefix: string) => marks.settings.some((s) => s.startsWith(prefix));
  const role = (name: string) => marks.roles.includes(name);
  if (setting("rds.") || role("rds_superuser")) return "rds";
  if (setting("cloudsql.") || role("cloudsqlsuperuser")) return "cloud-sql";
  if (setting("azure.") || role("azure_pg_admin")) return "azure";
  if (setting("neon.") || role("neon_superuser")) return "neon";
  if (role("supabase_admin")) return "supabase";
  return null;
}

/**
 * The kind to advise for: the user's choice, else what the server says, else the host name, else self-managed
 * (the most common case for a name no provider uses).
 */
export function resolveHostKind(chosen: HostKind | null | undefined, host: string, marks?: ServerMarks): HostKind {
  return chosen ?? (marks ? hostKindFromServer(marks) : null) ?? hostKindFromName(host) ?? "self-managed";
}

/** The checks whose fix depends on the host. */
export type HostFixId = "reachable" | "tls" | "wal_level" | "replication" | "replication_slots" | "wal_senders";

export type FixContext = {
  /** The role Retrace connects as, already quoted as an identifier. */
  role: string;
  host: string;
  port: number;
  /** Current max_replication_slots / max_wal_senders, when known. */
  maxReplicationSlots?: number;
  maxWalSenders?: number;
};

const RESTART = "-- then restart PostgreSQL (this setting only changes at server start)";
const DROP_SLOT =
  "Or drop a slot nobody uses (see SELECT slot_name, active FROM pg_replication_slots;):\n" +
  "SELECT pg_drop_replication_slot('<slot_name>');";

/** The exact fix for a failed check on a host of this kind. */
export function hostFix(kind: HostKind, id: HostFixId, ctx: FixContext): string {
  const slots = (ctx.maxReplicationSlots ?? 10) + 4;
  const senders = (ctx.maxWalSenders ?? 10) + 4;
  switch (id) {
    case "wal_level":
      switch (kind) {
        case "self-managed":
          return `ALTER SYSTEM SET wal_level = logical;\n${RESTART}`;
        case "rds":
          return (
            "In the RDS console, in the instance's DB parameter group (Aurora: the DB cluster parameter group; " +
            "the default group cannot be changed, create your own and attach it), set:\n" +
            "rds.logical_replication = 1\n" +
            "Then reboot the instance. With the AWS CLI:\n" +
            "aws rds modify-db-parameter-group --db-parameter-group-name <your-group> " +
            '--parameters "ParameterName=rds.logical_replication,ParameterValue=1,ApplyMethod=pending-reboot"\n' +
            "aws rds reboot-db-instance --db-instance-identifier <your-instance>"
          );
        case "neon":
          return (
            "In the Neon Console, open your project's Settings, then Logical Replication, and click Enable. " +
            "Neon restarts the project's computes; logical replication cannot be turned off again afterwards."
          );
        case "supabase":
          return (
            "Supabase projects run with wal_level = logical. If this fails, you are probably connected through " +
            "the connection pooler (pooler.supabase.com): connect to the direct host db.<project-ref>.supabase.co " +
            "on port 5432 instead, or ask Supabase support."
          );
        case "cloud-sql":
          return (
            "Set the cloudsql.logical_decoding flag to on (Cloud SQL console: Edit, Flags; the instance restarts). " +
            "With gcloud (--database-flags replaces every flag set: list the existing ones too):\n" +
            "gcloud sql instances patch <your-instance> --database-flags=cloudsql.logical_decoding=on"
          );
        case "azure":
          return (
            "Set the server parameter wal_level to logical (Azure portal: Server parameters), then restart " +
            "the server. With the Azure CLI:\n" +
            "az postgres flexible-server parameter set --resource-group <group> --server-name <server> " +
            "--name wal_level --value logical\n" +
            "az postgres flexible-server restart --resource-group <group> --name <server>"
          );
        case "other":
          return (
            "Set wal_level = logical in your provider's console (often called logical replication or logical " +
            "decoding), then restart the server. Where you have a superuser:\n" +
            `ALTER SYSTEM SET wal_level = logical;\n${RESTART}`
          );
      }
      break;
    case "replication":
      switch (kind) {
        case "rds":
          return `Run as the master user:\nGRANT rds_replication TO ${ctx.role};`;
        case "neon":
          return (
            "Run as the role that owns the project (or any role created in the Neon Console, " +
            `which are members of neon_superuser):\nALTER ROLE ${ctx.role} WITH REPLICATION;`
          );
        case "supabase":
          return `Run as the postgres user (SQL Editor):\nALTER ROLE ${ctx.role} WITH REPLICATION;`;
        case "cloud-sql":
          return `Run as the postgres user (a cloudsqlsuperuser):\nALTER ROLE ${ctx.role} WITH REPLICATION;`;
        case "azure":
          return `Run as the server admin (a member of azure_pg_admin):\nALTER ROLE ${ctx.role} WITH REPLICATION;`;
        case "self-managed":
        case "other":
          return `Run as a superuser:\nALTER ROLE ${ctx.role} WITH REPLICATION;`;
      }
      break;
    case "replication_slots":
      switch (kind) {
        case "self-managed":
          return `ALTER SYSTEM SET max_replication_slots = ${slots};\n${RESTART}\n${DROP_SLOT}`;
        case "rds":
          return (
            `Raise max_replication_slots (to ${slots}, say) in the instance's DB parameter group and reboot it. ` +
            DROP_SLOT
          );
        case "cloud-sql":
          return (
            `Raise the max_replication_slots flag (to ${slots}, say); the instance restarts:\n` +
            `gcloud sql instances patch <your-instance> --database-flags=max_replication_slots=${slots}\n${DROP_SLOT}`
          );
        case "azure":
          return (
            `Raise the server parameter max_replication_slots (to ${slots}, say) and restart the server:\n` +
            "az postgres flexible-server parameter set --resource-group <group> --server-name <server> " +
            `--name max_replication_slots --value ${slots}\n${DROP_SLOT}`
          );
        case "neon":
        case "supabase":
        case "other":
          return (
            "Your provider fixes the number of replication slots (it may grow with the plan or compute size). " +
            DROP_SLOT
          );
      }
      break;
    case "wal_senders":
      switch (kind) {
        case "self-managed":
          return `ALTER SYSTEM SET max_wal_senders = ${senders};\n${RESTART}`;
        case "rds":
          return `Raise max_wal_senders (to ${senders}, say) in the instance's DB parameter group and reboot it.`;
        case "cloud-sql":
          return (
            `Raise the max_wal_senders flag (to ${senders}, say); the instance restarts:\n` +
            `gcloud sql instances patch <your-instance> --database-flags=max_wal_senders=${senders}`
          );
        case "azure":
          return (
            `Raise the server parameter max_wal_senders (to ${senders}, say) and restart the server:\n` +
            "az postgres flexible-server parameter set --resource-group <group> --server-name <server> " +
            `--name max_wal_senders --value ${senders}`
          );
        case "neon":
        case "supabase":
        case "other":
          return (
            "Your provider fixes the number of WAL senders. Stop a replication client you no longer need " +
            "(SELECT pid, application_name FROM pg_stat_replication;), or ask for a larger plan."
          );
      }
      break;
    case "reachable": {
      const where = `${ctx.host}:${ctx.port}`;
      switch (kind) {
        case "rds":
          return (
            `Check that the instance is publicly accessible (or that Retrace runs in its VPC) and that its security ` +
            `group allows inbound TCP on port ${ctx.port} from Retrace's address.`
          );
        case "neon":
          return (
            "Use the host from the Neon Console's connection details (its endpoint, ending in .neon.tech), and " +
            "check the project's IP Allow list, if one is set."
          );
        case "supabase":
          return (
            "Use the direct connection host db.<project-ref>.supabase.co, port 5432 (logical replication does not " +
            "work through the pooler), and check Network Restrictions under the project's Database settings. The " +
            "direct host is IPv6 only unless the project has the IPv4 add-on."
          );
        case "cloud-sql":
          return (
            `Add Retrace's address to the instance's Authorized networks (Connections, Networking), or run the ` +
            `Cloud SQL Auth Proxy next to Retrace and connect to it.`
          );
        case "azure":
          return (
            "Add a firewall rule for Retrace's address under the server's Networking settings (or use private " +
            "access from Retrace's virtual network)."
          );
        case "self-managed":
        case "other":
          return (
            `Check that PostgreSQL is running on ${where}, that listen_addresses includes the interface Retrace ` +
            `connects to, and that no firewall or security group blocks port ${ctx.port}.`
          );
      }
      break;
    }
    case "tls":
      switch (kind) {
        case "rds":
          return (
            'Download the RDS certificate bundle for your region (global-bundle.pem from AWS\'s "Using SSL/TLS" ' +
            'page) and paste it as the CA certificate, with SSL mode "verify-full".'
          );
        case "cloud-sql":
          return (
            "Download the instance's server CA certificate (Connections, Security: Download server CA " +
            'certificate) and paste it as the CA certificate, with SSL mode "verify-full".'
          );
        case "azure":
          return (
            "Azure's server certificates chain to public roots (DigiCert Global Root G2, Microsoft RSA Root " +
            '2017): paste those as the CA certificate, with SSL mode "verify-full".'
          );
        case "neon":
        case "supabase":
          return (
            "Use the host name exactly as the provider gives it (its certificate is issued for that name). " +
            "Supabase: download the project's CA certificate (Database settings, SSL configuration) and paste it."
          );
        case "self-managed":
        case "other":
          return (
            "Paste the certificate of the CA that signed the server's certificate (the ssl_ca_file or the " +
            "issuer of ssl_cert_file), and connect with the host name the certificate names. " +
            'Or choose SSL mode "require": encrypted, but any certificate is accepted.'
          );
      }
  }
  return "";
}
