/**
 * Ground truth recorded at the source, in the same transactions as the changes: AFTER triggers
 * write each row change into an unpublished `truth` table as it should be captured: to_jsonb of
 * the old and new row (the row with the columns of that moment), the primary key per the catalog
 * of that moment (one column: its text; several: a JSON array of their texts; none: null), and
 * the xid. So the truth is exactly what committed, DDL and failed clients included, and the store
 * must hold exactly that.
 */
export const TRUTH_SETUP = `
  create table truth (
    n bigserial primary key, xid bigint not null, tbl text not null, op text not null,
    pk text, before jsonb, after jsonb
  );
  -- Trigger argument, optional: a publication; changes are recorded only while the table is in it.
  create function record_truth() returns trigger language plpgsql as $$
    declare
      key_columns text[];
      image jsonb := case when TG_OP = 'DELETE' then to_jsonb(OLD) else to_jsonb(NEW) end;
      pk text;
    begin
      if TG_NARGS > 0 and not exists (
           select 1 from pg_publication_tables
            where pubname = TG_ARGV[0] and schemaname = TG_TABLE_SCHEMA and tablename = TG_TABLE_NAME) then
        return null;
      end if;
      select array_agg(a.attname order by k.position) into key_columns
        from pg_index i
        cross join lateral unnest(i.indkey) with ordinality k(attnum, position)
        join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
       where i.indrelid = TG_RELID and i.indisprimary;
      if array_length(key_columns, 1) = 1 then
        pk := image ->> key_columns[1];
      elsif key_columns is not null then
        select '[' || string_agg(to_json(image ->> c)::text, ',' order by o) || ']' into pk
          from unnest(key_columns) with ordinality u(c, o);
      end if;
      insert into truth (xid, tbl, op, pk, before, after) values (
        pg_current_xact_id()::text::bigint % 4294967296, TG_TABLE_NAME,
        case TG_OP when 'INSERT' then 'CREATE' else TG_OP end, pk,
        case when TG_OP in ('UPDATE', 'DELETE') then to_jsonb(OLD) end,
        case when TG_OP in ('INSERT', 'UPDATE') then to_jsonb(NEW) end);
      return null;
    end $$;
  create function record_truncate() returns trigger language plpgsql as $$
    begin
      insert into truth (xid, tbl, op)
        values (pg_current_xact_id()::text::bigint % 4294967296, TG_TABLE_NAME, 'TRUNCATE');
      return null;
    end $$;
`;

/**
 * The triggers that record `table`'s row changes in `truth` (only while it is in `publication`,
 * if given), and its TRUNCATEs if asked.
 */
export function recordTruth(table: string, options: { publication?: string; truncate?: boolean } = {}): string {
  const argument = options.publication ? `'${options.publication}'` : "";
  const triggers = [
    `create trigger ${table}_truth after insert or update or delete on ${table}
       for each row execute function record_truth(${argument});`,
  ];
  if (options.truncate) {
    triggers.push(`create trigger ${table}_truncate after truncate on ${table}
       for each statement execute function record_truncate();`);
  }
  return triggers.join("\n");
}
