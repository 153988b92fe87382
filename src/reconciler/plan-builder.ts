import { quoteIdent } from '../model/identifiers';
import { comparePrivileges } from '../model/permission-level';
import type { Change, ChangeAction, ExecutorName, Finding, InSchemas, Plan, Statement } from '../model/plan';

// How the diff builds a plan: changes in words as it finds them, then grants and
// revokes grouped into as few statements as the catalog allows, in a safe order.

/** The grantee PostgreSQL calls PUBLIC. */
export const PUBLIC = 'PUBLIC';

type GrantKind = 'database' | 'schema' | 'relations' | 'relation' | 'column' | 'default' | 'routine';

/** One grantee's grant or revoke of a set of privileges on one object, before grouping into statements. */
export interface Intent {
  readonly action: 'grant' | 'revoke';
  readonly kind: GrantKind;
  /** relations/relation: the class; default: the object type; column: the quoted column; routine: function or procedure */
  readonly sort: string;
  /** schema, qualified relation, default-privilege scope ('' = database-wide), or '' for the database */
  readonly object: string;
  readonly privileges: readonly string[];
  readonly grantee: string;
  readonly change: number;
  /** default: whose future objects (ALTER DEFAULT PRIVILEGES FOR ROLE); the default credential when unset. */
  readonly forRole?: string;
}

/** A loss that a revoke from PUBLIC causes a role that is not pgcred's: listed under the same statement. */
export interface PublicLoss {
  readonly subject: string;
  readonly target: string;
  readonly description: string;
}

export class PlanBuilder {
  readonly changes: Change[] = [];
  readonly statements: Statement[] = [];
  readonly findings: Finding[] = [];
  readonly errors: string[] = [];
  private pending: {
    change: Omit<Change, 'id' | 'statement' | 'sql'>;
    sql?: string;
    passwordFor?: string;
    phase: number;
  }[] = [];
  private intents: (Intent & { phase: number })[] = [];
  private roleLists: {
    change: Omit<Change, 'id' | 'statement' | 'sql'>;
    phase: number;
    head: string;
    tail: string;
    role: string;
  }[] = [];
  private intentChanges: Omit<Change, 'id' | 'statement' | 'sql'>[] = [];
  private publicLosses?: (intent: Intent, target: string) => PublicLoss[];
  private earlyGrantees: ReadonlySet<string> = new Set();
  private subjects: ReadonlyMap<string, { subject: string; note: string }> = new Map();
  private covering?: (
    object: Pick<Intent, 'kind' | 'sort' | 'object' | 'forRole'>,
    grantee: string,
    privilege: string,
  ) => string | undefined;

  /** Changes to these grantees (the level roles) are listed under a subject in words, with a note. */
  nameGrantees(subjects: ReadonlyMap<string, { subject: string; note: string }>): void {
    this.subjects = subjects;
  }

  /**
   * Says which level role covers a privilege a credential loses directly: moving a
   * credential onto its level role revokes what it then holds through the role.
   */
  onCoveredRevoke(
    covering: (
      object: Pick<Intent, 'kind' | 'sort' | 'object' | 'forRole'>,
      grantee: string,
      privilege: string,
    ) => string | undefined,
  ): void {
    this.covering = covering;
  }

  /** Grants to these grantees (the level roles) run before every revoke. */
  grantFirstTo(grantees: ReadonlySet<string>): void {
    this.earlyGrantees = grantees;
  }

  /**
   * Names, for every revoke from PUBLIC, the roles that are not pgcred's and lose
   * access with it, so a reviewer sees who is cut off before anything changes.
   */
  onPublicRevoke(losses: (intent: Intent, target: string) => PublicLoss[]): void {
    this.publicLosses = losses;
  }

  /** A change made by exactly one statement. */
  simple(
    phase: number,
    action: ChangeAction,
    subject: string,
    target: string,
    description: string,
    sql: string,
    options: { destructive?: boolean; passwordFor?: string } = {},
  ): void {
    this.pending.push({
      change: { action, subject, target, description, destructive: options.destructive ?? false },
      sql,
      passwordFor: options.passwordFor,
      phase,
    });
  }

  /**
   * A change made by a statement that names roles, shared with every other change of
   * the same phase and statement: `DROP ROLE a, b, c` rather than one statement each.
   */
  roleList(
    phase: number,
    action: ChangeAction,
    subject: string,
    target: string,
    description: string,
    statement: { head: string; role: string; tail?: string },
    options: { destructive?: boolean } = {},
  ): void {
    this.roleLists.push({
      change: { action, subject, target, description, destructive: options.destructive ?? false },
      phase,
      head: statement.head,
      tail: statement.tail ?? '',
      role: statement.role,
    });
  }

  /** A grant or revoke that may share its statement with other grantees and objects. */
  intent(
    intent: Omit<Intent, 'change'>,
    subject: string,
    target: string,
    description: string,
    destructive: boolean,
  ): void {
    const change = this.intentChanges.length;
    this.intentChanges.push({ action: intent.action, subject, target, description, destructive });
    const phase =
      intent.action === 'revoke'
        ? Phase.Revoke
        : this.earlyGrantees.has(intent.grantee)
          ? Phase.LevelGrant
          : Phase.Grant;
    this.intents.push({ ...intent, change, phase });
  }

  /**
   * A grantee's grants and revokes on one object: one change each way, described in
   * words (`gains SELECT on all tables in schema public`), grouped into statements later.
   */
  converge(
    object: Pick<Intent, 'kind' | 'sort' | 'object' | 'forRole'>,
    grantee: string,
    target: string,
    grant: readonly string[],
    revoke: readonly string[],
    detail: { grant?: string; revoke?: string; revokeAll?: boolean } = {},
  ): void {
    const sorted = (privileges: readonly string[]) => [...privileges].sort(comparePrivileges);
    const named = this.subjects.get(grantee);
    const subject = named?.subject ?? grantee;
    const note = named ? ` (${named.note})` : '';
    if (grant.length > 0) {
      const privileges = sorted(grant);
      this.intent(
        { ...object, action: 'grant', privileges, grantee },
        subject,
        target,
        `gains ${privileges.join(', ')} on ${target}${detail.grant ?? ''}${note}`,
        false,
      );
    }
    if (revoke.length > 0) {
      const privileges = sorted(revoke);
      const covered = new Map<string, string[]>();
      const lost: string[] = [];
      for (const privilege of privileges) {
        const by = this.covering?.(object, grantee, privilege);
        if (by) covered.set(by, [...(covered.get(by) ?? []), privilege]);
        else lost.push(privilege);
      }
      const moved = [...covered].map(
        ([role, held]) =>
          `${held.join(', ')} on ${target} ${held.length === 1 ? 'is' : 'are'} held through level role ${role} instead`,
      );
      // A grantee that keeps nothing on the object loses ALL: the statement is then the
      // same whatever each grantee held, and one pass over a schema's relations serves
      // every such grantee (destroying read-only and read-write credentials together).
      this.intent(
        { ...object, action: 'revoke', privileges: detail.revokeAll ? ['ALL'] : privileges, grantee },
        subject,
        target,
        lost.length === 0
          ? `no longer holds ${privileges.join(', ')} directly: ${moved.join('; ')}`
          : `loses ${lost.join(', ')} on ${target}${detail.revoke ?? ''}${note}${moved.length > 0 ? `; ${moved.join('; ')}` : ''}`,
        lost.length > 0,
      );
    }
  }

  /** The grants and revokes planned so far, for checks of what the plan will touch. */
  plannedIntents(): readonly Intent[] {
    return this.intents;
  }

  finding(finding: Finding): void {
    this.findings.push(finding);
  }

  build(database: string, pgDatabase: string, owner: string, executor: ExecutorName): Plan {
    if (this.publicLosses) {
      for (const intent of [...this.intents]) {
        if (intent.grantee !== PUBLIC || intent.action !== 'revoke') continue;
        const target = this.intentChanges[intent.change]!.target;
        for (const loss of this.publicLosses(intent, target)) {
          // The same intent again, for PUBLIC: it joins PUBLIC's statement and adds only a change.
          const change = this.intentChanges.length;
          this.intentChanges.push({ action: 'revoke', ...loss, destructive: true });
          this.intents.push({ ...intent, change });
        }
      }
    }
    const groups = groupIntents(this.intents, pgDatabase, owner);
    type Entry = {
      phase: number;
      order: number;
      sql: string;
      passwordFor?: string;
      inSchemas?: InSchemas;
      changes: Omit<Change, 'id' | 'statement' | 'sql'>[];
    };
    const entries: Entry[] = [];
    this.pending.forEach((p, order) => {
      entries.push({ phase: p.phase, order, sql: p.sql!, passwordFor: p.passwordFor, changes: [p.change] });
    });
    const lists = new Map<string, Entry & { roles: string[]; tail: string; head: string }>();
    this.roleLists.forEach((item, order) => {
      const key = `${item.phase}\t${item.head}\t${item.tail}`;
      const list = lists.get(key);
      if (list) {
        list.roles.push(quoteIdent(item.role));
        list.changes.push(item.change);
      } else {
        lists.set(key, {
          phase: item.phase,
          order: 5_000 + order,
          sql: '',
          head: item.head,
          tail: item.tail,
          roles: [quoteIdent(item.role)],
          changes: [item.change],
        });
      }
    });
    for (const { head, tail, roles, ...entry } of lists.values()) {
      entries.push({ ...entry, sql: `${head} ${roles.join(', ')}${tail}` });
    }
    groups.forEach((group, order) => {
      entries.push({
        phase: group.phase,
        order: 10_000 + order,
        sql: group.sql,
        ...(group.inSchemas ? { inSchemas: group.inSchemas } : {}),
        changes: [...new Set(group.changes)].sort((a, b) => a - b).map((c) => this.intentChanges[c]!),
      });
    });
    entries.sort((a, b) => a.phase - b.phase || a.order - b.order);
    // A change that several statements make (one grantee's privileges split over
    // privilege sets) is listed once, under its first statement.
    const seen = new Map<object, number>();
    for (const entry of entries) {
      const statementIndex = this.statements.length;
      const ids: number[] = [];
      for (const change of entry.changes) {
        const existing = seen.get(change);
        if (existing !== undefined) {
          ids.push(existing);
          continue;
        }
        const id = this.changes.length;
        seen.set(change, id);
        this.changes.push({ ...change, id, statement: statementIndex, sql: entry.sql });
        ids.push(id);
      }
      this.statements.push({
        sql: entry.sql,
        ...(entry.passwordFor ? { passwordFor: entry.passwordFor } : {}),
        ...(entry.inSchemas ? { inSchemas: entry.inSchemas } : {}),
        changes: ids,
      });
    }
    return {
      database,
      executor,
      changes: this.changes,
      statements: this.statements,
      findings: this.findings,
      errors: this.errors,
    };
  }
}

export enum Phase {
  First = -1,
  CreateRole = 0,
  AlterRole = 1,
  Membership = 2,
  Ownership = 3,
  /** Roles about to be dropped hand their objects to the default credential, before their privileges are revoked. */
  HandOver = 4,
  /** Grants to level roles: before any revoke, so a credential moved to its level role never has less meanwhile. */
  LevelGrant = 5,
  Revoke = 6,
  Grant = 7,
  Drop = 8,
  Last = 9,
}

/** Groups intents into statements: first per object (its grantees), then objects that share grantees. */
function groupIntents(
  intents: readonly (Intent & { phase: number })[],
  database: string,
  owner: string,
): { phase: number; sql: string; inSchemas?: InSchemas; changes: number[] }[] {
  const byObject = new Map<
    string,
    { head: string; intent: Intent & { phase: number }; grantees: string[]; changes: number[] }
  >();
  for (const intent of intents) {
    const head = [
      intent.phase,
      intent.action,
      intent.kind,
      intent.sort,
      intent.privileges.join(','),
      intent.forRole ?? '',
    ].join('\u0000');
    const key = `${head}\u0001${intent.object}`;
    let entry = byObject.get(key);
    if (!entry) {
      entry = { head, intent, grantees: [], changes: [] };
      byObject.set(key, entry);
    }
    entry.grantees.push(intent.grantee);
    entry.changes.push(intent.change);
  }
  const byGrantees = new Map<
    string,
    { intent: Intent & { phase: number }; objects: string[]; grantees: string[]; changes: number[] }
  >();
  for (const entry of byObject.values()) {
    const grantees = [...new Set(entry.grantees)].sort();
    // The database-wide default entry and per-schema entries are different statements.
    const scope = entry.intent.kind === 'default' && entry.intent.object === '' ? 'global' : 'objects';
    const key = `${entry.head}\u0001${scope}\u0001${grantees.join('\u0000')}`;
    let group = byGrantees.get(key);
    if (!group) {
      group = { intent: entry.intent, objects: [], grantees, changes: [] };
      byGrantees.set(key, group);
    }
    group.objects.push(entry.intent.object);
    group.changes.push(...entry.changes);
  }
  return [...byGrantees.values()].map((group) => {
    const objects = group.objects.sort();
    const inSchemas =
      group.intent.kind === 'relations'
        ? relationsInSchemas(group.intent, objects, group.grantees)
        : undefined;
    return {
      phase: group.intent.phase,
      sql: renderGrant(group.intent, objects, group.grantees, database, owner),
      ...(inSchemas ? { inSchemas } : {}),
      changes: group.changes,
    };
  });
}

function relationsInSchemas(
  intent: Intent,
  schemas: readonly string[],
  grantees: readonly string[],
): InSchemas {
  const verb = intent.action === 'grant' ? 'GRANT' : 'REVOKE';
  const prep = intent.action === 'grant' ? 'TO' : 'FROM';
  const tables = intent.sort === 'tables';
  return {
    class: tables ? 'tables' : 'sequences',
    schemas,
    head: `${verb} ${intent.privileges.join(', ')} ON ${tables ? 'TABLE' : 'SEQUENCE'}`,
    tail: `${prep} ${grantees.map((g) => (g === PUBLIC ? 'PUBLIC' : quoteIdent(g))).join(', ')}`,
  };
}

function renderGrant(
  intent: Intent,
  objects: readonly string[],
  grantees: readonly string[],
  database: string,
  owner: string,
): string {
  const verb = intent.action === 'grant' ? 'GRANT' : 'REVOKE';
  const prep = intent.action === 'grant' ? 'TO' : 'FROM';
  const privileges = intent.privileges.join(', ');
  const who = grantees.map((g) => (g === PUBLIC ? 'PUBLIC' : quoteIdent(g))).join(', ');
  switch (intent.kind) {
    case 'database':
      return `${verb} ${privileges} ON DATABASE ${quoteIdent(database)} ${prep} ${who}`;
    case 'schema':
      return `${verb} ${privileges} ON SCHEMA ${objects.map(quoteIdent).join(', ')} ${prep} ${who}`;
    case 'relations':
      return `${verb} ${privileges} ON ALL ${intent.sort === 'tables' ? 'TABLES' : 'SEQUENCES'} IN SCHEMA ${objects.map(quoteIdent).join(', ')} ${prep} ${who}`;
    case 'relation':
      return `${verb} ${privileges} ON ${intent.sort === 'tables' ? 'TABLE' : 'SEQUENCE'} ${objects.join(', ')} ${prep} ${who}`;
    case 'routine':
      return `${verb} ${privileges} ON ${intent.sort.toUpperCase()} ${objects.join(', ')} ${prep} ${who}`;
    case 'column':
      return `${verb} ${intent.privileges.map((p) => `${p} (${intent.sort})`).join(', ')} ON TABLE ${objects.join(', ')} ${prep} ${who}`;
    case 'default': {
      const inSchema =
        objects.length === 1 && objects[0] === '' ? '' : ` IN SCHEMA ${objects.map(quoteIdent).join(', ')}`;
      return `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(intent.forRole ?? owner)}${inSchema} ${verb} ${privileges} ON ${intent.sort.toUpperCase()} ${prep} ${who}`;
    }
  }
}
