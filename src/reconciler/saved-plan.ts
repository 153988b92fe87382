/**
 * Saved plans (`pgcred plan --out`, `pgcred apply PLAN.json`): what a reviewer
 * approved is what applies. The file is evidence, never instructions: apply
 * computes the plan again under the lock and goes ahead only when it is the one
 * saved, statement for statement, from the same declaration and the same live state.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { MAX_CONFIG_BYTES } from '../config/load';
import { readYaml } from '../config/read-yaml';
import type { ControlStore } from '../control/store';
import type { DatabaseSpec } from '../model/config';
import { CONTROL_SCHEMA } from '../model/control-schema';
import { rotatingUsername } from '../model/names';
import type { Plan, Statement } from '../model/plan';
import { ownerName } from './diff';
import type { LiveState } from './live-state';
import { parseManagedComment } from './markers';
import { type PlanJson, planJson } from './render';

export const SAVED_PLAN_FORMAT = 'pgcred-plan/1';

/** Where the declaration came from; apply reads the same source unless told otherwise. */
export type DeclarationSource =
  | { readonly kind: 'config'; readonly path: string }
  | { readonly kind: 'manifest'; readonly path: string };

/**
 * Named parts and their hashes: the fingerprint is the hash of all of them, and
 * the names let a refusal say what moved without keeping what it was.
 */
export interface Fingerprint {
  readonly sha256: string;
  readonly parts: Readonly<Record<string, string>>;
}

export interface SavedDatabasePlan {
  readonly database: string;
  readonly declaration: Fingerprint;
  readonly live: Fingerprint;
  readonly statements: readonly { readonly sql: string; readonly passwordFor?: string }[];
  /** For people and tools reading the artifact; apply never reads SQL from here. */
  readonly plan: PlanJson;
}

export interface SavedPlanFile {
  readonly format: typeof SAVED_PLAN_FORMAT;
  readonly createdAt: string;
  readonly source: DeclarationSource;
  readonly prune: boolean;
  readonly databases: readonly SavedDatabasePlan[];
}

/** JSON with keys sorted, so the same value always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function fingerprintOf(parts: Record<string, unknown>): Fingerprint {
  const hashed: Record<string, string> = {};
  for (const [name, value] of Object.entries(parts)) hashed[name] = sha256(canonical(value));
  return { sha256: sha256(canonical(hashed)), parts: hashed };
}

/** The parts of two fingerprints that differ: added, removed or changed. */
export function movedParts(saved: Fingerprint, now: Fingerprint): string[] {
  const names = new Set([...Object.keys(saved.parts), ...Object.keys(now.parts)]);
  return [...names].filter((name) => saved.parts[name] !== now.parts[name]).sort();
}

// ---------------------------------------------------------------------------
// The declaration, as written

/**
 * The document as written, parsed but with its `${VAR}`s left alone: hashing a
 * resolved admin URL would be hashing its password. A URL written out literally
 * is hashed without its password for the same reason.
 */
export function readDeclaration(source: DeclarationSource): unknown {
  if (statSync(source.path).size > MAX_CONFIG_BYTES) throw new Error(`${source.path}: too large`);
  const text = readFileSync(source.path, 'utf8');
  if (source.kind === 'manifest') return (JSON.parse(text) as { config?: unknown }).config;
  return readYaml(text, source.path);
}

function withoutPassword(value: unknown): unknown {
  if (typeof value !== 'string' || value.includes('${')) return value;
  try {
    const url = new URL(value);
    url.password = '';
    return url.toString();
  } catch {
    return value;
  }
}

interface RawDoc {
  databases?: { name?: string; url?: unknown; source?: string }[];
  apps?: { name?: string }[];
  attachments?: { database?: string; app?: string }[];
}

/** What a database's plan and apply read from the document: its entry, its source's, its attachments and their apps. */
export function declarationFingerprint(raw: unknown, database: string, prune: boolean): Fingerprint {
  const doc = (raw ?? {}) as RawDoc;
  const entryOf = (name: string | undefined) => {
    const entry = (doc.databases ?? []).find((db) => db?.name === name);
    return entry ? { ...entry, url: withoutPassword(entry.url) } : null;
  };
  const entry = entryOf(database);
  const attachments = (doc.attachments ?? []).filter((a) => a?.database === database);
  const appNames = new Set(attachments.map((a) => a.app));
  return fingerprintOf({
    'its entry under databases': entry,
    'the entry of its source database': entry?.source ? entryOf(entry.source) : null,
    'its attachments': attachments,
    'the apps it is attached to': (doc.apps ?? []).filter((app) => appNames.has(app?.name)),
    'the --prune option': prune,
  });
}

// ---------------------------------------------------------------------------
// The live state it was computed from

export interface ControlFacts {
  readonly attachments: readonly Record<string, unknown>[];
  readonly rotations: readonly Record<string, unknown>[];
}

/** The attachments and open rotations of a database, as the control store holds them (no secret columns). */
export async function readControlFacts(control: ControlStore, database: string): Promise<ControlFacts> {
  const attachments = (await control.attachments.list({ database })).map(
    ({ app, name, credential, username, declared }) => ({ app, name, credential, username, declared }),
  );
  const rotations = (await control.rotations.openAll(database))
    .map(({ credential, username, step }) => ({ credential, username, step }))
    .sort((a, b) => (a.credential < b.credential ? -1 : a.credential > b.credential ? 1 : 0));
  return { attachments, rotations };
}

/**
 * What the plan was computed from: the managed roles, their attributes and
 * memberships, what they and PUBLIC hold per schema (columns and routines included),
 * attachments and rotations.
 * Counts of tables are left out (a "some"/"all" coverage stays), so a migration
 * that adds tables the default privileges cover leaves a saved plan valid.
 */
export function liveFingerprint(
  live: LiveState,
  spec: DatabaseSpec,
  declared: readonly string[],
  control: ControlFacts,
): Fingerprint {
  const managed = new Set<string>();
  const owner = ownerName({ name: spec.source ?? spec.name, owner: spec.owner }, live);
  for (const name of [...declared, owner]) {
    managed.add(name);
    managed.add(rotatingUsername(name));
  }
  for (const role of live.roles.values()) {
    const mark = parseManagedComment(role.comment);
    if (mark && (mark.database === spec.name || mark.database === (spec.source ?? spec.name)))
      managed.add(role.name);
  }
  const covered = (grantee: string | null) => grantee === null || managed.has(grantee);
  // A table a migration creates gets what default privileges give: a group those
  // imply is no news, and leaving it out keeps the first table of a schema from
  // making the plan stale. What they do not imply, and any partial group, is.
  const implied = new Set(
    live.defaultPrivileges.map(
      (d) => `${d.schema ?? '*'}:${d.objtype}:${d.grantee ?? 'PUBLIC'}:${d.privilege}`,
    ),
  );
  const impliedByDefaults = (g: LiveState['relationPrivileges'][number]) =>
    g.grantee === owner ||
    (g.holding === g.total &&
      [g.schema, '*'].some((s) => implied.has(`${s}:${g.class}:${g.grantee ?? 'PUBLIC'}:${g.privilege}`)));
  const acl = (entries: readonly { grantee: string | null; privilege: string }[]) =>
    entries
      .filter((e) => covered(e.grantee))
      .map((e) => `${e.grantee ?? 'PUBLIC'}:${e.privilege}`)
      .sort();
  const parts: Record<string, unknown> = {
    'the database (owner and privileges)': {
      owner: live.server.owner,
      publicSchemaOwner: live.server.publicSchemaOwner,
      acl: acl(live.server.acl),
      currentUser: live.server.currentUser,
    },
    'the attachments': control.attachments,
    'the rotations in progress': control.rotations,
  };
  for (const name of [...managed].sort()) {
    const role = live.roles.get(name);
    if (!role) continue;
    const { connections: _connections, memberOf, ...attributes } = role;
    parts[`role ${name}`] = attributes;
    parts[`memberships of ${name}`] = memberOf.map((m) => `${m.role}${m.admin ? ' (admin)' : ''}`).sort();
  }
  for (const schema of live.schemas) {
    if (schema.name === CONTROL_SCHEMA) continue;
    parts[`schema ${schema.name}`] = {
      owner: schema.owner,
      acl: acl(schema.acl),
      relations: live.relationPrivileges
        .filter((g) => g.schema === schema.name && covered(g.grantee) && !impliedByDefaults(g))
        .map(
          (g) =>
            `${g.class}:${g.grantee ?? 'PUBLIC'}:${g.privilege}:${g.holding === g.total ? 'all' : 'some'}`,
        )
        .sort(),
      defaults: live.defaultPrivileges
        .filter((d) => d.schema === schema.name && (covered(d.grantee) || managed.has(d.owner)))
        .map((d) => `${d.owner}:${d.objtype}:${d.grantee ?? 'PUBLIC'}:${d.privilege}`)
        .sort(),
      definers: live.definerFunctions
        .filter((f) => f.schema === schema.name)
        .map(
          (f) =>
            `${f.name}(${f.arguments}):${f.executors
              .filter(covered)
              .map((e) => e ?? 'PUBLIC')
              .sort()}`,
        )
        .sort(),
      columns: (live.columnPrivileges ?? [])
        .filter((c) => c.schema === schema.name && covered(c.grantee))
        .map((c) => `${c.table}.${c.column}:${c.grantee ?? 'PUBLIC'}:${c.privilege}`)
        .sort(),
      routines: (live.routinePrivileges ?? [])
        .filter((r) => r.schema === schema.name && covered(r.grantee))
        .map((r) => `${r.name}(${r.arguments}):${r.grantee}`)
        .sort(),
    };
  }
  parts['database-wide default privileges'] = live.defaultPrivileges
    .filter((d) => d.schema === null && (covered(d.grantee) || managed.has(d.owner)))
    .map((d) => `${d.owner}:${d.objtype}:${d.grantee ?? 'PUBLIC'}:${d.privilege}`)
    .sort();
  return fingerprintOf(parts);
}

// ---------------------------------------------------------------------------
// The file

export function savedDatabasePlan(
  plan: Plan,
  declaration: Fingerprint,
  live: Fingerprint,
): SavedDatabasePlan {
  return {
    database: plan.database,
    declaration,
    live,
    statements: plan.statements.map((s) => ({
      sql: s.sql,
      ...(s.passwordFor ? { passwordFor: s.passwordFor } : {}),
    })),
    plan: planJson(plan),
  };
}

export function savedPlanText(file: SavedPlanFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Reads a saved plan; throws with one line on anything that is not one. */
export function readSavedPlan(path: string): SavedPlanFile {
  let raw: unknown;
  try {
    if (statSync(path).size > 64 * MAX_CONFIG_BYTES) throw new Error('larger than any saved plan');
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not a saved plan (${(error as Error).message})`);
  }
  const file = raw as Partial<SavedPlanFile>;
  if (file?.format !== SAVED_PLAN_FORMAT) {
    throw new Error(
      `${path}: not a saved plan of this pgcred (format ${JSON.stringify(file?.format ?? null)}, expected ${SAVED_PLAN_FORMAT})`,
    );
  }
  const fp = (f: unknown) =>
    !!f && typeof (f as Fingerprint).sha256 === 'string' && typeof (f as Fingerprint).parts === 'object';
  const ok =
    (file.source?.kind === 'config' || file.source?.kind === 'manifest') &&
    typeof file.source.path === 'string' &&
    typeof file.prune === 'boolean' &&
    Array.isArray(file.databases) &&
    file.databases.every(
      (db) =>
        typeof db?.database === 'string' &&
        fp(db.declaration) &&
        fp(db.live) &&
        Array.isArray(db.statements) &&
        db.statements.every((s: { sql?: unknown }) => typeof s?.sql === 'string'),
    );
  if (!ok)
    throw new Error(`${path}: a saved plan with missing or malformed fields; run pgcred plan --out again`);
  return file as SavedPlanFile;
}

/** The first difference between the statements saved and the ones computed now, in words; undefined when equal. */
export function statementDifference(
  saved: SavedDatabasePlan['statements'],
  now: readonly Statement[],
): string | undefined {
  const same = (a: SavedDatabasePlan['statements'][number], b: Statement) =>
    a.sql === b.sql && (a.passwordFor ?? undefined) === (b.passwordFor ?? undefined);
  const n = Math.min(saved.length, now.length);
  for (let i = 0; i < n; i++) {
    if (!same(saved[i]!, now[i]!))
      return `statement ${i + 1} would now be ${clip(now[i]!.sql)} instead of ${clip(saved[i]!.sql)}`;
  }
  if (saved.length > now.length)
    return now.length === 0
      ? `it would now make no change, where the saved plan has ${saved.length} statement${saved.length === 1 ? '' : 's'}`
      : `it would now stop after statement ${now.length}, before ${clip(saved[now.length]!.sql)}`;
  if (now.length > saved.length) return `it would now also run ${clip(now[saved.length]!.sql)}`;
  return undefined;
}

function clip(sql: string): string {
  return JSON.stringify(sql.length > 80 ? `${sql.slice(0, 77)}...` : sql);
}

/** The refusal's one line: the database, what moved, and what to do. */
export function staleReason(database: string, what: string): string {
  return `${database}: the saved plan is stale: ${what}; nothing was changed; run pgcred plan --out again and have it reviewed`;
}

export function describeMoved(kind: 'declaration' | 'live', parts: readonly string[]): string {
  const shown = parts.slice(0, 3).join(', ');
  const more = parts.length > 3 ? ` and ${parts.length - 3} more` : '';
  return kind === 'declaration'
    ? `the declaration changed since the plan was saved (${shown}${more})`
    : `the live database moved since the plan was saved (${shown}${more})`;
}
