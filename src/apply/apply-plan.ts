import type { ClientBase } from 'pg';
import type { AuditEntry } from '../control/audit-log';
import { faultPoint } from '../faults';
import { quoteLiteral } from '../model/identifiers';
import { type InSchemas, PASSWORD_PLACEHOLDER, type Plan, type Statement } from '../model/plan';
import { scramVerifierAsync } from '../postgres/scram';
import { sqlFile } from '../project';

/**
 * The one place pgcred changes a database: a Plan's statements, run in one
 * transaction under the apply lock, each failure named by the change it makes,
 * then one audit record. What cannot roll back (ending sessions, writing env files,
 * restarting apps) is a side effect the plan's caller names; it runs before the
 * transaction begins or after it commits, never inside it.
 */

// Advisory locks are per database; one key for "pgcred is changing roles here".
const APPLY_LOCK = [0x70676372, 0x61706c79] as const;

/**
 * Roles are cluster-wide but advisory locks are per database: an apply that claims a
 * role name (creates or marks a role) takes this key in one fixed database of the
 * cluster, so the name checks and CREATE ROLE of two applies on one cluster never
 * interleave, whichever databases they change.
 */
const CLUSTER_ROLE_LOCK = [0x70676372, 0x726f6c65] as const;
export const CLUSTER_LOCK_DATABASE = 'postgres';

/** Whether a plan claims a role name of the cluster: it creates a role or marks one as pgcred's. */
export function claimsRoleNames(plan: Plan): boolean {
  return plan.statements.some((statement) => /^\s*(CREATE|COMMENT ON) ROLE\b/i.test(statement.sql));
}

/**
 * Takes the cluster's role-name lock on `client` (a session of the cluster's lock
 * database, held until it ends), waiting at most timeoutMs for another apply's.
 */
export function lockClusterRoles(
  client: ClientBase,
  label: string,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<void> {
  return waitForLock(client, CLUSTER_ROLE_LOCK, timeoutMs, progress, {
    waiting: `Waiting for another pgcred apply on the cluster of ${label} to finish creating roles...`,
    held: `another pgcred apply on the cluster of ${label} held the role-name lock`,
  });
}

/** Releases the role-name lock lockClusterRoles took, before its session ends. */
export async function unlockClusterRoles(client: ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2)', [...CLUSTER_ROLE_LOCK]);
}

/** Something a plan does that is not a statement of its transaction. */
export interface SideEffect {
  /** What it does, in words, for the audit log. */
  readonly description: string;
  readonly run: () => Promise<void>;
  /** A fault point passed once it ran (src/faults.ts). */
  readonly fault?: string;
}

/** A plan and what it does around its transaction. */
export interface PlannedChange {
  readonly plan: Plan;
  /** Run in order before the transaction begins (store a password first, so a crash keeps it). */
  readonly before?: readonly SideEffect[];
  /** Run in order after COMMIT (end sessions, point apps at a username). */
  readonly after?: readonly SideEffect[];
}

/** A plan with no statement: a change that is side effects only (promoting a follower). */
export function emptyPlan(spec: { readonly name: string; readonly executor: Plan['executor'] }): Plan {
  return {
    database: spec.name,
    executor: spec.executor,
    changes: [],
    statements: [],
    findings: [],
    errors: [],
  };
}

export interface TransactionOptions {
  /** The database, as the config names it: errors and progress name it. */
  readonly label: string;
  readonly progress: (line: string) => void;
  /** How long to wait for another apply of the same database (default 5 minutes). */
  readonly lockTimeoutMs?: number;
}

/**
 * Runs `work` under the session-level apply lock in one REPEATABLE READ transaction;
 * it commits when work says so and rolls back otherwise, or on any error. The lock is
 * taken before the transaction begins: its snapshot is taken at its first query, so an
 * apply that waited reads the state the one before it committed.
 */
export async function inApplyTransaction<T>(
  client: ClientBase,
  options: TransactionOptions,
  work: () => Promise<{ readonly commit: boolean; readonly value: T }>,
): Promise<T> {
  let lost = false;
  const onEnd = () => {
    lost = true;
  };
  client.once('end', onEnd);
  let locked = false;
  try {
    await lockForApply(client, options.label, options.lockTimeoutMs ?? 300_000, options.progress);
    locked = true;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    faultPoint('apply:locked');
    const { commit, value } = await work();
    if (!commit) {
      await client.query('ROLLBACK');
      return value;
    }
    faultPoint('apply:before-commit');
    await client.query('COMMIT');
    faultPoint('apply:committed');
    return value;
  } catch (error) {
    if (lost) {
      // Cut mid-apply: the server rolled the transaction back, or (cut at COMMIT) committed it whole.
      throw new Error(
        `lost the connection to database ${options.label} during apply (${(error as Error).message}): ` +
          'its transaction either committed whole or not at all; run the command again to finish',
      );
    }
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('end', onEnd);
    if (locked && !lost)
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...APPLY_LOCK]).catch(() => undefined);
  }
}

/**
 * The relations each IN SCHEMA statement names, read once for the whole plan before its
 * first statement: no statement of a plan creates or drops a relation, so they are the
 * ones each statement would find when it runs.
 */
async function relationsInSchemas(
  client: ClientBase,
  plan: Plan,
  ahead?: RelationsAhead,
): Promise<(target: InSchemas) => string> {
  const schemas = new Set(plan.statements.flatMap((s) => s.inSchemas?.schemas ?? []));
  const byClass = new Map<string, string>();
  if (schemas.size > 0) {
    const rows = [...schemas].every((schema) => ahead?.schemas.has(schema))
      ? await ahead!.rows
      : (await client.query<RelationNames>(sqlFile('apply', 'relations_in_schemas'), [[...schemas]])).rows;
    for (const row of rows) byClass.set(`${row.class}\u0000${row.schema}`, row.names);
  }
  return (target) =>
    target.schemas.flatMap((schema) => byClass.get(`${target.class}\u0000${schema}`) ?? []).join(', ');
}

interface RelationNames {
  readonly schema: string;
  readonly class: string;
  readonly names: string;
}

/** The relations of some schemas, asked for before the plan that needs them is made. */
export interface RelationsAhead {
  readonly schemas: ReadonlySet<string>;
  readonly rows: Promise<RelationNames[]>;
}

/**
 * Asks for the relations of these schemas now, on the transaction the plan will run in,
 * while the plan is computed: a first apply grants the levels on every schema, and the
 * server's pass over pg_class then runs beside the planning instead of after it. Only
 * before the transaction changes anything, so that the names are those its statements
 * will find.
 */
export function askRelationsAhead(client: ClientBase, schemas: readonly string[]): RelationsAhead {
  const rows = client
    .query<RelationNames>(sqlFile('apply', 'relations_in_schemas'), [[...schemas]])
    .then((result) => result.rows);
  // A plan that needs none of them (nothing to change, a refusal) never awaits them.
  rows.catch(() => undefined);
  return { schemas: new Set(schemas), rows };
}

/**
 * The SCRAM verifier of every password a plan sets, made before its first statement:
 * the passwords are fetched (and kept, for new ones) in plan order, then hashed side by
 * side on the thread pool while the catalog is read.
 */
async function verifiersFor(
  plan: Plan,
  password: (username: string) => Promise<string>,
): Promise<Map<string, SetVerifier>> {
  const usernames = [...new Set(plan.statements.flatMap((s) => (s.passwordFor ? [s.passwordFor] : [])))];
  const passwords: string[] = [];
  for (const username of usernames) passwords.push(await password(username));
  const verifiers = await Promise.all(passwords.map((p) => scramVerifierAsync(p)));
  return new Map(
    usernames.map((username, i) => [
      username,
      { username, password: passwords[i]!, verifier: verifiers[i]! },
    ]),
  );
}

/** At most this many statements go to the server in one round trip. */
const BATCH_STATEMENTS = 100;

/**
 * Counts the commands the server reports complete on a client's connection until
 * stop(), which returns the count. Undefined when the driver's connection is not the
 * event emitter node-postgres 8 has: the batch then runs one statement at a time.
 */
function countCompleted(client: ClientBase): { stop(): number } | undefined {
  const connection = (client as { connection?: unknown }).connection as
    | {
        on?: (event: string, listener: () => void) => void;
        off?: (event: string, listener: () => void) => void;
      }
    | undefined;
  if (typeof connection?.on !== 'function' || typeof connection.off !== 'function') return undefined;
  let count = 0;
  let listening = true;
  const listener = () => {
    count += 1;
  };
  connection.on('commandComplete', listener);
  return {
    stop: () => {
      if (listening) connection.off?.('commandComplete', listener);
      listening = false;
      return count;
    },
  };
}

/** A password a plan set, with the SCRAM verifier it went to PostgreSQL as. */
export interface SetVerifier {
  readonly username: string;
  readonly password: string;
  readonly verifier: string;
}

/**
 * Runs a plan's statements on the open transaction; a failure names the change and
 * PostgreSQL's reason. Returns the passwords it set, whose digests the caller keeps
 * once the transaction commits.
 */
export async function executePlan(
  client: ClientBase,
  label: string,
  plan: Plan,
  password: (username: string) => Promise<string>,
  ahead?: RelationsAhead,
): Promise<SetVerifier[]> {
  const [relationsOf, verifiers] = await Promise.all([
    relationsInSchemas(client, plan, ahead),
    verifiersFor(plan, password),
  ]);
  const failure = (statement: Statement, error: unknown) => {
    const change = plan.changes[statement.changes[0]!];
    return new Error(
      `apply of ${label} failed at "${change ? `${change.subject}: ${change.description}` : statement.sql}" ` +
        `(${statement.sql.replace(PASSWORD_PLACEHOLDER, "'…'")}): ${(error as Error).message}. Nothing was changed.`,
    );
  };
  const runOne = async (statement: Statement, sql: string) => {
    try {
      await client.query(sql);
    } catch (error) {
      throw failure(statement, error);
    }
  };
  // Small statements (CREATE ROLE, COMMENT, memberships) go to the server together, as
  // one query: 60 new credentials are some 200 of them, and a round trip each was a
  // tenth of a cold apply. The server stops at the first that fails (the transaction is
  // aborted, as it was one statement at a time); the commands it completed before say
  // which one that was, so the failure still names its own change.
  let batch: { statement: Statement; sql: string }[] = [];
  const flush = async () => {
    const group = batch;
    batch = [];
    if (group.length === 0) return;
    const completed = group.length > 1 ? countCompleted(client) : undefined;
    if (!completed) {
      for (const g of group) await runOne(g.statement, g.sql);
      return;
    }
    try {
      // Each on a line of its own: a statement's last line never swallows the separator.
      await client.query(group.map((g) => g.sql).join('\n;\n'));
    } catch (error) {
      throw failure(group[Math.min(completed.stop(), group.length - 1)]!.statement, error);
    }
    completed.stop();
  };
  for (const statement of plan.statements) {
    let sql: string | undefined = statement.sql;
    if (statement.passwordFor) {
      const verifier = verifiers.get(statement.passwordFor)!.verifier;
      sql = sql.slice(0, sql.length - PASSWORD_PLACEHOLDER.length) + quoteLiteral(verifier);
    }
    faultPoint('apply:statement');
    if (statement.inSchemas) {
      await flush();
      // The same relations as IN SCHEMA, in this transaction's snapshot, found in one pass.
      const names = relationsOf(statement.inSchemas);
      if (names) await runOne(statement, `${statement.inSchemas.head} ${names} ${statement.inSchemas.tail}`);
      continue;
    }
    batch.push({ statement, sql });
    if (batch.length >= BATCH_STATEMENTS) await flush();
  }
  await flush();
  return [...verifiers.values()];
}

/** A plan's changes as the audit log keeps them: in words and statements, never a secret. */
export function auditDetail(plan: Plan, effects: readonly SideEffect[] = []): Record<string, unknown> {
  return {
    changes: plan.changes.map((c) => ({
      action: c.action,
      subject: c.subject,
      target: c.target,
      description: c.description,
    })),
    ...(plan.statements.length > 0 ? { statements: plan.statements.map((s) => s.sql) } : {}),
    ...(effects.length > 0 ? { effects: effects.map((e) => e.description) } : {}),
  };
}

export interface ApplyPlannedOptions extends TransactionOptions {
  readonly password: (username: string) => Promise<string>;
  /** The audit record, written after the change; its detail gets the plan's changes. */
  readonly audit?: AuditEntry;
  readonly writeAudit: (entry: AuditEntry) => Promise<void>;
  /** Keeps the digests of the passwords the plan set, after COMMIT (ControlStore.keepVerifierDigests). */
  readonly keepVerifiers?: (set: readonly SetVerifier[]) => Promise<void>;
  /** A fault point passed right after COMMIT. */
  readonly committedFault?: string;
}

/**
 * Applies a planned change whole: its side effects before, its plan in one transaction
 * under the lock, its side effects after, then its audit record. Every step of it may
 * run again after a crash: the caller's journal says which planned change is next.
 */
export async function applyPlanned(
  client: ClientBase,
  planned: PlannedChange,
  options: ApplyPlannedOptions,
): Promise<void> {
  const run = async (effects: readonly SideEffect[]) => {
    for (const effect of effects) {
      await effect.run();
      if (effect.fault) faultPoint(effect.fault);
    }
  };
  await run(planned.before ?? []);
  if (planned.plan.statements.length > 0) {
    const set = await inApplyTransaction(client, options, async () => ({
      commit: true,
      value: await executePlan(client, options.label, planned.plan, options.password),
    }));
    if (options.committedFault) faultPoint(options.committedFault);
    await options.keepVerifiers?.(set);
  }
  await run(planned.after ?? []);
  if (options.audit) {
    const effects = [...(planned.before ?? []), ...(planned.after ?? [])];
    await options.writeAudit({
      ...options.audit,
      detail: { ...auditDetail(planned.plan, effects), ...options.audit.detail },
    });
  }
}

/** Takes the session-level apply lock, waiting at most timeoutMs for another apply to end. */
function lockForApply(
  client: ClientBase,
  label: string,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<void> {
  return waitForLock(client, APPLY_LOCK, timeoutMs, progress, {
    waiting: `Waiting for another pgcred apply on ${label} to finish...`,
    held: `another pgcred apply on ${label} held its lock`,
  });
}

/** Takes a session-level advisory lock, waiting at most timeoutMs for whoever holds it. */
async function waitForLock(
  client: ClientBase,
  key: readonly [number, number],
  timeoutMs: number,
  progress: (line: string) => void,
  words: { readonly waiting: string; readonly held: string },
): Promise<void> {
  const { rows } = await client.query('SELECT pg_try_advisory_lock($1, $2) AS got', [...key]);
  if (rows[0].got) return;
  progress(words.waiting);
  // The wait runs in a transaction of its own so SET LOCAL bounds it alone; a session
  // lock taken in a transaction outlives its COMMIT.
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    await client.query('SELECT pg_advisory_lock($1, $2)', [...key]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: string }).code === '55P03') {
      throw new Error(`${words.held} for more than ${Math.round(timeoutMs / 1000)} s; nothing was changed`);
    }
    throw error;
  }
}
