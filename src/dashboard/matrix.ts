/**
 * The access matrix: credentials by schema, each cell what the credential can do to
 * the tables of the schema (through its level role or its own grants), from the one
 * inspection the page made.
 */
import { CONTROL_SCHEMA } from '../model/control-schema';
import type { ListedCredential } from '../reconciler/listing';
import type { LiveState } from '../reconciler/live-state';

export type CellKind = 'none' | 'read' | 'read-write' | 'custom' | 'owner' | 'empty';

export interface MatrixCell {
  readonly kind: CellKind;
  /** The privileges behind it, for the cell's title. */
  readonly detail: string;
}

export interface Matrix {
  readonly schemas: readonly string[];
  readonly rows: readonly { readonly credential: string; readonly cells: readonly MatrixCell[] }[];
}

const WRITE = ['INSERT', 'UPDATE', 'DELETE'];

/** The role and every role it inherits from. */
function rolesOf(live: LiveState, name: string): Set<string> {
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length > 0) {
    const role = queue.pop()!;
    if (seen.has(role)) continue;
    seen.add(role);
    const found = live.roles.get(role);
    if (found && (found.inherit || role === name)) for (const m of found.memberOf) queue.push(m.role);
  }
  return seen;
}

export function accessMatrix(live: LiveState, credentials: readonly ListedCredential[]): Matrix {
  const schemas = live.schemas
    .map((s) => s.name)
    .filter((s) => s !== CONTROL_SCHEMA)
    .sort();
  const rows = credentials
    .filter((c) => c.state !== 'not created')
    .map((credential) => {
      const roles = rolesOf(live, credential.username);
      const superuser = live.roles.get(credential.username)?.superuser === true;
      const cells = schemas.map((name): MatrixCell => {
        const schema = live.schemas.find((s) => s.name === name)!;
        if (superuser || roles.has(schema.owner)) return { kind: 'owner', detail: 'owns the schema' };
        const usage = schema.acl.some(
          (e) => e.privilege === 'USAGE' && (e.grantee === null || roles.has(e.grantee)),
        );
        const groups = live.relationPrivileges.filter((g) => g.schema === name && g.class === 'tables');
        if (groups.length === 0) return { kind: 'empty', detail: 'no tables' };
        const held = groups.filter((g) => g.grantee === null || roles.has(g.grantee));
        if (!usage || held.length === 0) return { kind: 'none', detail: usage ? 'USAGE only' : 'no USAGE' };
        const all = new Set(held.filter((g) => g.holding === g.total).map((g) => g.privilege));
        const some = new Set(held.map((g) => g.privilege));
        const detail = [...some].sort().join(', ');
        const partial = [...some].some((p) => !all.has(p));
        if (!partial && all.has('SELECT') && WRITE.every((p) => all.has(p)))
          return { kind: 'read-write', detail };
        if (!partial && all.size === 1 && all.has('SELECT')) return { kind: 'read', detail };
        return { kind: 'custom', detail };
      });
      return { credential: credential.name, cells };
    });
  return { schemas, rows };
}

/** The level a credential holds, from its membership in a level role (pgcred:<level>:<database>). */
export function levelOf(live: LiveState, username: string): string | undefined {
  for (const m of live.roles.get(username)?.memberOf ?? []) {
    const match = /^pgcred:(none|read-only|read-write):/.exec(m.role);
    if (match) return match[1];
  }
  return undefined;
}
