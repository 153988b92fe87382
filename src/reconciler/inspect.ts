import type { ClientBase } from 'pg';
import { routineKey } from '../model/access';
import {
  type QualifiedName,
  quoteIdent,
  quoteLiteral,
  quoteRoutine,
  type RoutineSignature,
} from '../model/identifiers';
import { sqlFile } from '../project';
import {
  type AclEntry,
  type ColumnPrivilege,
  type DeclaredObject,
  type DeclaredRoutine,
  type DefaultObjectType,
  type DefaultPrivilegeEntry,
  type DefinerFunction,
  EXCEPTION_CAP,
  type ForeignOwnership,
  type LiveRole,
  type LiveSchema,
  type LiveServer,
  type LiveState,
  type RelationClass,
  type RoutinePrivilege,
  type RowSecurityTable,
} from './live-state';
import { mergeRelationRows, type RelationPrivilegeRow } from './relation-groups';

/** A row of relation_details.sql; which fields are set depends on its kind. */
interface RelationDetailRow {
  readonly kind: 'few' | 'owned' | 'rls';
  readonly id: string | null;
  readonly schema: string;
  readonly name: string | null;
  readonly owner: string | null;
  readonly object_kind: string | null;
  readonly count: number | null;
  readonly names: string[] | null;
  readonly policy_roles: string[] | null;
}

/** The reconciler's catalog SQL (src/reconciler/sql). */
export function catalogSql(name: string): string {
  return sqlFile('reconciler', name);
}

export interface InspectOptions {
  /** Tables and sequences named by custom grants, to learn which exist. */
  readonly declaredObjects?: readonly QualifiedName[];
  /** Columns named by custom grants, to learn which exist. */
  readonly declaredColumns?: readonly { schema: string; table: string; column: string }[];
  /** Functions and procedures named by custom grants, for the server to resolve. */
  readonly declaredRoutines?: readonly RoutineSignature[];
  /** The default credential's username when the file names one (else the database owner's is assumed). */
  readonly owner?: string;
  /**
   * Read every column's ACL, so that a column granted to PUBLIC alone is seen too (import
   * describes those). Plan and drift find columns through the roles their ACLs name.
   */
  readonly allColumns?: boolean;
  /**
   * A second connection to the same database, idle: most catalogs are read there, in
   * the same snapshot, while pg_class is read on the first (see joinSnapshot).
   */
  readonly helper?: ClientBase;
}

/**
 * Runs `work` in one REPEATABLE READ transaction, so every catalog query in it reads
 * the same snapshot: read one after the other under READ COMMITTED, a schema created
 * between two queries shows its tables but not itself. READ ONLY unless asked, and
 * ended with ROLLBACK (a read-only transaction has nothing to commit).
 */
export async function inSnapshot<T>(
  client: ClientBase,
  work: () => Promise<T>,
  options: { readonly readOnly?: boolean } = {},
): Promise<T> {
  await client.query(
    `BEGIN ISOLATION LEVEL REPEATABLE READ${options.readOnly === false ? '' : ' READ ONLY'}`,
  );
  try {
    const result = await work();
    await client.query(options.readOnly === false ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Reads one database's live state with a fixed number of catalog queries,
 * whatever the number of roles, schemas and tables, all from one snapshot: the
 * caller's REPEATABLE READ transaction when it has one open (apply plans and
 * changes in the same one), else a read-only one of its own.
 */
export async function inspect(client: ClientBase, options: InspectOptions = {}): Promise<LiveState> {
  if (client.getTransactionStatus() !== 'T') return inSnapshot(client, () => inspect(client, options));
  const helper = options.helper ? await joinSnapshot(client, options.helper) : undefined;
  try {
    const side = helper ?? client;
    // pg_class's pass on the transaction's own connection, the rest beside it on the
    // helper's when there is one (each waits for the other's server otherwise).
    const catalogs = async () => {
      const server = (await side.query(catalogSql('server'))).rows[0];
      checkIsolation(server.isolation);
      return {
        server,
        roles: (await side.query(catalogSql('roles'))).rows,
        schemas: (await side.query(catalogSql('schemas'))).rows,
        ...(await otherCatalogs(side, options)),
      };
    };
    const relationsOf = async () => {
      const relations = (
        await client.query<RelationPrivilegeRow>(catalogSql('relation_privileges'), [
          EXCEPTION_CAP,
          options.owner ?? null,
        ])
      ).rows;
      const rare = relations.filter((row) => row.kind === 'rare');
      const details = (
        await client.query<RelationDetailRow>(catalogSql('relation_details'), [
          options.owner ?? null,
          rare.map((row) => row.schema),
          rare.map((row) => row.class),
          rare.map((row) => row.acl_text),
          rare.map((row) => row.acl),
          detailSchemas(relations),
        ])
      ).rows;
      return { relations, details };
    };
    // Without a helper, the server's row first: it checks the isolation level.
    const [read, { relations, details }] = helper
      ? await bothOrFirstError(catalogs(), relationsOf())
      : await (async () => {
          const first = await catalogs();
          return [first, await relationsOf()] as const;
        })();
    return liveStateOf(read, relations, details, options);
  } finally {
    // Read only: nothing to keep.
    if (helper) await helper.query('ROLLBACK').catch(() => undefined);
  }
}

/**
 * Both results, or the first error once neither is still running on its connection:
 * the caller ends the transactions they ran in.
 */
async function bothOrFirstError<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}

function checkIsolation(isolation: string): void {
  if (isolation !== 'repeatable read' && isolation !== 'serializable') {
    // Each query would read its own snapshot: a plan from such a view can be wrong.
    throw new Error(`inspection needs a REPEATABLE READ transaction, not ${isolation}`);
  }
}

/**
 * Puts `helper` (a second connection to the same database, idle) in a read-only
 * transaction that reads the snapshot of `client`'s: what inspection reads there is
 * what it would read on `client`. Undefined when it cannot: on a standby, which
 * exports no snapshot, or when the helper fails; inspection then reads everything on
 * `client`. Only before `client`'s transaction has changed anything, which the helper
 * would not see.
 */
async function joinSnapshot(client: ClientBase, helper: ClientBase): Promise<ClientBase | undefined> {
  const exported = (await client.query(catalogSql('snapshot_export'))).rows[0];
  checkIsolation(exported.isolation);
  if (!exported.snapshot) return undefined;
  try {
    await helper.query(
      `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ${quoteLiteral(exported.snapshot)}`,
    );
    return helper;
  } catch {
    await helper.query('ROLLBACK').catch(() => undefined);
    return undefined;
  }
}

/** The catalogs besides roles, schemas and relations. */
async function otherCatalogs(client: ClientBase, options: InspectOptions) {
  const declared = options.declaredObjects ?? [];
  const defaults = (await client.query(catalogSql('default_privileges'))).rows;
  const definers = (await client.query(catalogSql('definer_functions'))).rows;
  const objects =
    declared.length > 0
      ? (
          await client.query(catalogSql('declared_objects'), [
            declared.map((o) => o.schema),
            declared.map((o) => o.name),
          ])
        ).rows
      : [];
  const columnPrivileges = (
    await client.query(catalogSql(options.allColumns ? 'column_privileges_all' : 'column_privileges'))
  ).rows;
  const columns = options.declaredColumns ?? [];
  const declaredColumns =
    columns.length > 0
      ? (
          await client.query(catalogSql('declared_columns'), [
            columns.map((c) => c.schema),
            columns.map((c) => c.table),
            columns.map((c) => c.column),
          ])
        ).rows
      : [];
  const routines = options.declaredRoutines ?? [];
  const routineRows = (
    await client.query(catalogSql('routine_privileges'), [
      await resolvable(client, routines.map(quoteRoutine)),
    ])
  ).rows;
  return { defaults, definers, objects, columnPrivileges, declaredColumns, routineRows };
}

/** The live state from inspection's rows. */
function liveStateOf(
  read: Awaited<ReturnType<typeof otherCatalogs>> & {
    // biome-ignore lint/suspicious/noExplicitAny: rows of catalog SQL, typed where they are read
    server: any;
    // biome-ignore lint/suspicious/noExplicitAny: rows of catalog SQL, typed where they are read
    roles: any[];
    // biome-ignore lint/suspicious/noExplicitAny: rows of catalog SQL, typed where they are read
    schemas: any[];
  },
  relations: RelationPrivilegeRow[],
  details: RelationDetailRow[],
  options: InspectOptions,
): LiveState {
  const {
    server,
    roles,
    schemas,
    defaults,
    definers,
    objects,
    columnPrivileges,
    declaredColumns,
    routineRows,
  } = read;
  const routines = options.declaredRoutines ?? [];
  for (const row of details) {
    if (row.kind === 'few')
      relations.push({
        kind: 'few',
        schema: row.schema,
        class: row.object_kind as RelationClass,
        grantee: null,
        privilege: null,
        count: null,
        acl: row.id,
        acl_text: null,
        names: row.names,
      });
  }
  const owners = details
    .filter((row) => row.kind === 'owned')
    .map(
      (row): ForeignOwnership => ({
        owner: row.owner!,
        schema: row.schema,
        kind: row.object_kind as ForeignOwnership['kind'],
        count: row.count!,
        sample: row.names ?? [],
      }),
    );
  const rowSecurity = details.filter((row) => row.kind === 'rls');
  const liveRoutine = (row: {
    schema: string;
    name: string;
    arguments: string;
    types: string;
    routine_kind: 'function' | 'procedure';
  }) => ({
    signature: `${quoteIdent(row.schema)}.${quoteIdent(row.name)}(${row.arguments})`,
    kind: row.routine_kind,
    schema: row.schema,
    name: row.name,
    arguments: row.arguments,
    types: row.types,
  });

  const liveServer: LiveServer = {
    versionNum: server.version_num,
    currentUser: server.current_user,
    isSuperuser: server.is_superuser,
    canCreateRoles: server.can_create_roles,
    inRecovery: server.in_recovery,
    database: server.database,
    owner: server.owner,
    ownerIsSuperuser: server.owner_is_superuser,
    bootstrapUser: server.bootstrap_user,
    publicSchemaOwner: server.public_schema_owner,
    acl: server.acl as AclEntry[],
  };
  const roleMap = new Map<string, LiveRole>();
  for (const row of roles) {
    roleMap.set(row.name, {
      name: row.name,
      superuser: row.superuser,
      createdb: row.createdb,
      createrole: row.createrole,
      replication: row.replication,
      bypassrls: row.bypassrls,
      login: row.login,
      inherit: row.inherit,
      connectionLimit: row.connection_limit,
      hasValidUntil: row.has_valid_until,
      config: row.config,
      comment: row.comment,
      memberOf: row.member_of,
      connections: row.connections,
    });
  }
  const { relationTotals, relationPrivileges } = mergeRelationRows(relations, EXCEPTION_CAP);
  const objtypes: Record<string, DefaultObjectType> = { r: 'tables', S: 'sequences', n: 'schemas' };
  return {
    server: liveServer,
    roles: roleMap,
    schemas: schemas as LiveSchema[],
    relationTotals,
    relationPrivileges,
    defaultPrivileges: defaults.map(
      (row): DefaultPrivilegeEntry => ({
        owner: row.owner,
        schema: row.schema,
        objtype: objtypes[row.objtype]!,
        grantee: row.grantee,
        privilege: row.privilege,
      }),
    ),
    foreignOwnership: owners,
    declaredObjects: objects.map(
      (row): DeclaredObject => ({ schema: row.schema, name: row.name, class: row.class }),
    ),
    definerFunctions: definers as DefinerFunction[],
    rowSecurity: rowSecurity.map(
      (row): RowSecurityTable => ({ schema: row.schema, name: row.name!, policyRoles: row.policy_roles! }),
    ),
    columnPrivileges: columnPrivileges as ColumnPrivilege[],
    declaredColumns: declaredColumns as { schema: string; table: string; column: string }[],
    routinePrivileges: routineRows
      .filter((row) => row.kind === 'held')
      .map((row): RoutinePrivilege => ({ ...liveRoutine(row), grantee: row.grantee })),
    // Each declared routine is matched back to its row by the text it was looked up with.
    declaredRoutines: routines.map((r): DeclaredRoutine => {
      const row = routineRows.find((x) => x.kind === 'declared' && x.declared === quoteRoutine(r));
      return { key: routineKey(r), ...(row?.name ? { routine: liveRoutine(row) } : {}) };
    }),
  };
}

/**
 * The schemas relation_details.sql must look in (those with rare ACLs, relations another
 * role owns, or row-level security), or null for a pass over every relation: looking a
 * schema's relations up one by one costs some ten times a pass's share for each, so it
 * pays while they are under a tenth of the database's.
 */
export function detailSchemas(rows: readonly RelationPrivilegeRow[]): string[] | null {
  const sizes = new Map<string, number>();
  let all = 0;
  for (const row of rows) {
    if (row.kind !== 'total') continue;
    sizes.set(row.schema!, (sizes.get(row.schema!) ?? 0) + row.count!);
    all += row.count!;
  }
  const wanted = new Set(
    rows.filter((row) => row.kind === 'rare' || row.kind === 'detail').map((row) => row.schema!),
  );
  let within = 0;
  for (const schema of wanted) within += sizes.get(schema) ?? 0;
  return within * 10 <= all ? [...wanted].sort() : null;
}

/**
 * The declared routines the server can look up. Before PostgreSQL 16 to_regprocedure
 * raises an error for an argument type that does not exist, which would abort the
 * snapshot: each is tried under a savepoint then, only when the whole list fails, and
 * one that fails is left out (so it is reported as missing).
 */
async function resolvable(client: ClientBase, signatures: readonly string[]): Promise<string[]> {
  if (signatures.length === 0) return [];
  const tryLookup = async (list: readonly string[]) => {
    await client.query('SAVEPOINT pgcred_routines');
    try {
      await client.query('SELECT to_regprocedure(d) FROM unnest($1::text[]) AS d', [list]);
      await client.query('RELEASE SAVEPOINT pgcred_routines');
      return true;
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT pgcred_routines');
      await client.query('RELEASE SAVEPOINT pgcred_routines');
      return false;
    }
  };
  if (await tryLookup(signatures)) return [...signatures];
  const ok: string[] = [];
  for (const signature of signatures) if (await tryLookup([signature])) ok.push(signature);
  return ok;
}
