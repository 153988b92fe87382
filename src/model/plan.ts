/**
 * A plan: what pgcred would change, in words and in SQL. Text, markdown, JSON,
 * drift reports and the audit log all print from this one record, and it never
 * holds a secret: a password is the placeholder :'password', filled in by apply.
 */
export type ChangeAction =
  | 'create'
  | 'adopt'
  | 'alter'
  | 'reset-password'
  | 'grant'
  | 'revoke'
  | 'grant-membership'
  | 'revoke-membership'
  | 'set-owner'
  | 'drop';

export interface Change {
  readonly id: number;
  readonly action: ChangeAction;
  /** Who gains or loses: a credential, `default`, PUBLIC, or another role. */
  readonly subject: string;
  /** What it is about, as a reviewer reads it: `all tables in schema public`. */
  readonly target: string;
  readonly description: string;
  readonly destructive: boolean;
  /** Index into Plan.statements of the statement that makes this change. */
  readonly statement: number;
  readonly sql: string;
}

export interface Statement {
  readonly sql: string;
  /** Set when sql ends in PASSWORD :'password': apply puts this role's SCRAM verifier there. */
  readonly passwordFor?: string;
  /** Set when sql is `GRANT/REVOKE ... ON ALL TABLES/SEQUENCES IN SCHEMA`: how apply names the relations instead. */
  readonly inSchemas?: InSchemas;
  readonly changes: readonly number[];
}

/**
 * `GRANT SELECT ON ALL TABLES IN SCHEMA a, b TO r` as its parts, so that apply can run
 * `GRANT SELECT ON TABLE a.t1, a.t2, ... TO r` on the same relations: PostgreSQL finds
 * the relations of ALL TABLES IN SCHEMA by reading the whole of pg_class once per schema
 * named, and at 100,000 tables that reading is most of a cold apply.
 */
export interface InSchemas {
  readonly class: 'tables' | 'sequences';
  readonly schemas: readonly string[];
  /** `GRANT SELECT ON TABLE`: what comes before the relations. */
  readonly head: string;
  /** `TO r`: what comes after them. */
  readonly tail: string;
}

export type FindingKind =
  | 'unmanaged-role'
  | 'foreign-owner'
  | 'undeclared-credential'
  | 'missing-object'
  | 'password-unknown'
  | 'password-unchecked'
  | 'definer-function'
  | 'public-kept'
  | 'row-security'
  | 'default-privileges'
  | 'level-role-upgrade';

/**
 * drift: the live database moved away from the declaration in a way apply does not
 * repair (an object created by a managed credential); drift exits 2 on it.
 * notice: a standing condition that needs a person once (a password pgcred does not
 * know, a role it does not manage, PUBLIC left as it is); drift exits 0 unless --strict.
 */
export type FindingSeverity = 'drift' | 'notice';

/** Something plan and drift report that apply does not change (or changes only when asked). */
export interface Finding {
  readonly kind: FindingKind;
  readonly severity: FindingSeverity;
  readonly subject: string;
  readonly description: string;
  readonly remedy: string;
}

export type ExecutorName = 'pgcred' | 'terraform';

export interface Plan {
  /** The database as the config names it. */
  readonly database: string;
  readonly executor: ExecutorName;
  readonly changes: readonly Change[];
  readonly statements: readonly Statement[];
  readonly findings: readonly Finding[];
  /** Reasons this plan must not be applied (a follower, a name taken in the cluster). */
  readonly errors: readonly string[];
}

export const PASSWORD_PLACEHOLDER = ":'password'";

/**
 * Who repairs a change: passwords are always pgcred's; roles and grants belong to
 * the database's executor (SPEC §8), so a drift report says whom to run.
 */
export function responsibleFor(plan: Plan, change: Change): ExecutorName {
  return change.action === 'reset-password' ? 'pgcred' : plan.executor;
}

export function isEmptyPlan(plan: Plan): boolean {
  return plan.changes.length === 0;
}

/** What drift exits 2 on: a change apply would make, a drift finding, or (strict) any notice. */
export function hasDrift(plan: Plan, strict = false): boolean {
  return plan.changes.length > 0 || plan.findings.some((finding) => strict || finding.severity === 'drift');
}

export function notices(plan: Plan): Finding[] {
  return plan.findings.filter((finding) => finding.severity === 'notice');
}

export function driftFindings(plan: Plan): Finding[] {
  return plan.findings.filter((finding) => finding.severity === 'drift');
}

/** Subjects in the order a reviewer expects: default first, then credentials by name, PUBLIC last. */
export function subjectOrder(a: string, b: string): number {
  const rank = (s: string) => (s === 'default' ? 0 : s === 'PUBLIC' ? 2 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Two plans run one after the other in one transaction, as one plan. */
export function concatPlans(first: Plan, second: Plan): Plan {
  const offsetChanges = first.changes.length;
  const offsetStatements = first.statements.length;
  return {
    ...second,
    changes: [
      ...first.changes,
      ...second.changes.map((c) => ({
        ...c,
        id: c.id + offsetChanges,
        statement: c.statement + offsetStatements,
      })),
    ],
    statements: [
      ...first.statements,
      ...second.statements.map((st) => ({ ...st, changes: st.changes.map((id) => id + offsetChanges) })),
    ],
    findings: second.findings,
    errors: [...first.errors, ...second.errors],
  };
}
