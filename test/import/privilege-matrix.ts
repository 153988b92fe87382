import { Client } from 'pg';

/**
 * Every role's effective privileges in one database, as has_*_privilege answers
 * them: on the database, every non-system schema, relation, column, sequence and routine.
 * One query per kind. Returns the held ones as sorted `role kind object privilege`
 * lines, so two snapshots compare as lists and a difference reads as one.
 * pgcred's own control schema is left out: apply may create it.
 */
export async function privilegeMatrix(url: string, roles: readonly string[]): Promise<string[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcred')
                         AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;
    const tablePrivileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
    const version = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num);
    if (version >= 170000) tablePrivileges.push('MAINTAIN');
    const queries: Record<string, string> = {
      database: `SELECT r.rolname AS role, current_database() AS object, p AS privilege
                   FROM pg_roles r, unnest(ARRAY['CONNECT', 'TEMPORARY', 'CREATE']) p
                  WHERE r.rolname = ANY($1) AND has_database_privilege(r.oid, current_database(), p)`,
      schema: `SELECT r.rolname AS role, n.nspname AS object, p AS privilege
                 FROM pg_roles r, pg_namespace n, unnest(ARRAY['USAGE', 'CREATE']) p
                WHERE r.rolname = ANY($1) AND ${userSchemas} AND has_schema_privilege(r.oid, n.oid, p)`,
      relation: `SELECT r.rolname AS role, n.nspname || '.' || c.relname AS object, p AS privilege
                   FROM pg_roles r, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, unnest($2::text[]) p
                  WHERE r.rolname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${userSchemas}
                    AND has_table_privilege(r.oid, c.oid, p)`,
      sequence: `SELECT r.rolname AS role, n.nspname || '.' || c.relname AS object, p AS privilege
                   FROM pg_roles r, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                        unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p
                  WHERE r.rolname = ANY($1) AND c.relkind = 'S' AND ${userSchemas}
                    AND has_sequence_privilege(r.oid, c.oid, p)`,
      // Only what a column grant can give beyond its table's privileges: a role holding
      // SELECT on the table holds it on every column, and saying so per column says nothing more.
      column: `SELECT r.rolname AS role, n.nspname || '.' || c.relname || '.' || a.attname AS object, p AS privilege
                 FROM pg_roles r, pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace,
                      unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p
                WHERE r.rolname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${userSchemas}
                  AND a.attnum > 0 AND NOT a.attisdropped
                  AND has_column_privilege(r.oid, c.oid, a.attnum, p) AND NOT has_table_privilege(r.oid, c.oid, p)`,
      routine: `SELECT r.rolname AS role, f.oid::regprocedure::text AS object, 'EXECUTE' AS privilege
                  FROM pg_roles r, pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
                 WHERE r.rolname = ANY($1) AND ${userSchemas} AND has_function_privilege(r.oid, f.oid, 'EXECUTE')`,
    };
    const lines: string[] = [];
    for (const [kind, sql] of Object.entries(queries)) {
      const params = kind === 'relation' ? [roles, tablePrivileges] : [roles];
      const { rows } = await client.query(sql, params);
      for (const row of rows) lines.push(`${row.role} ${kind} ${row.object} ${row.privilege}`);
    }
    return lines.sort();
  } finally {
    await client.end().catch(() => undefined);
  }
}
