import { applyPlanned, emptyPlan, type PlannedChange, type SideEffect } from '../apply/apply-plan';
import type { AuditEntry } from '../control/audit-log';
import type { CredentialSpec, DatabaseSpec } from '../model/config';
import { credentialUsername } from '../model/names';
import { endpointOf } from '../postgres/connection';
import { CredentialError, liveCredentials } from '../reconciler/credentials';
import { ownerName } from '../reconciler/diff';
import { inspect } from '../reconciler/inspect';
import { parseManagedComment } from '../reconciler/markers';
import { checkPasswords } from '../reconciler/passwords';
import { openAdmin, type ReconcileContext } from '../reconciler/reconcile';

/**
 * `pgcred fork`: Heroku's unfollow. A follower is promoted (pg_promote) and becomes a
 * fork: an independent, writable copy that keeps the credentials it had at that
 * moment. Roles came with the copy; their passwords are copied in the control store
 * from the source database's name to the fork's, so the fork's credentials have URLs
 * and can be rotated, changed and destroyed on their own. Safe to run again after a
 * crash: a promoted server is not promoted twice, and a password already copied stays.
 */
export interface ForkResult {
  readonly source: string;
  /** False when the server was promoted already (a rerun). */
  readonly promoted: boolean;
  /** The credentials the fork has, besides default. */
  readonly credentials: readonly string[];
  /** The usernames whose passwords were copied now. */
  readonly copied: readonly string[];
  /** Usernames whose stored password does not open the fork's role (it changed on the source as the fork was made). */
  readonly mismatched: readonly string[];
}

export async function forkFollower(ctx: ReconcileContext, spec: DatabaseSpec): Promise<ForkResult> {
  if (spec.role === 'primary' || !spec.source) {
    throw new CredentialError(
      `${spec.name} is not a follower: declare it with role: follower and source: <its primary> first`,
    );
  }
  const source = ctx.config.databases.find((db) => db.name === spec.source);
  if (!source) throw new CredentialError(`unknown source database "${spec.source}" of ${spec.name}`);
  const client = await openAdmin(ctx, spec);
  const apply = (planned: PlannedChange, audit?: AuditEntry) =>
    applyPlanned(client, planned, {
      label: spec.name,
      progress: ctx.progress,
      password: async () => {
        throw new Error('a fork sets no password');
      },
      writeAudit: (entry) => ctx.control.audit(entry),
      ...(audit ? { audit } : {}),
    });
  try {
    // Promoting cannot roll back, and changes no role: a side effect of an empty plan.
    const recovering = (await client.query('SELECT pg_is_in_recovery() AS r')).rows[0].r as boolean;
    const promote: SideEffect = {
      description: `${spec.name} is promoted: it stops following ${source.name}`,
      run: async () => {
        const { rows } = await client.query('SELECT pg_promote(true, 60) AS done');
        if (!rows[0].done) throw new Error(`${spec.name} did not finish promoting within 60 s`);
      },
    };
    if (recovering) await apply({ plan: emptyPlan(spec), before: [promote] });
    const live = await inspect(client);
    const owner = ownerName(source, live);
    // Credential names; the roles are their usernames under the source's scheme, which the copy keeps.
    const credentials = liveCredentials(live, source);
    const rotating = [...live.roles.values()]
      .filter((role) => parseManagedComment(role.comment)?.kind === 'rotating username')
      .map((role) => role.name);
    const usernames = [owner, ...credentials.map((name) => credentialUsername(source, name)), ...rotating];
    const known = await ctx.control.getPasswords(source.name);
    const already = await ctx.control.getPasswords(spec.name);
    const copied = usernames.filter((username) => known.has(username) && !already.has(username));
    const copy: SideEffect = {
      description: `the passwords of ${copied.length} username(s) are copied from ${source.name}`,
      run: () =>
        ctx.control.transaction(async (db) => {
          for (const username of copied)
            await ctx.control.setPassword(spec.name, username, known.get(username)!, db);
        }),
    };
    await apply(
      { plan: emptyPlan(spec), after: [copy] },
      {
        action: 'fork',
        database: spec.name,
        detail: { source: source.name, promoted: recovering, credentials, copied },
      },
    );
    const stored = await ctx.control.getPasswords(spec.name);
    const status = await checkPasswords(client, live, endpointOf(spec.url), stored, usernames);
    const mismatched = [...status].filter(([, s]) => s === 'changed').map(([name]) => name);
    return { source: source.name, promoted: recovering, credentials, copied, mismatched };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The YAML a fork's credentials take in pgcred.yaml: the source's declarations of the names it kept. */
export function forkDeclaration(
  spec: DatabaseSpec,
  source: DatabaseSpec,
  credentials: readonly string[],
): string {
  const declared = new Map(source.credentials.map((c) => [c.name, c]));
  const lines = [
    `  - name: ${spec.name}`,
    '    url: ...  # as before',
    '    role: fork',
    `    source: ${source.name}`,
    ...(source.usernamePrefix !== undefined ? [`    usernamePrefix: ${source.usernamePrefix}`] : []),
  ];
  if (credentials.length > 0) lines.push('    credentials:');
  for (const name of credentials)
    lines.push(
      `      - ${credentialYaml(declared.get(name) ?? { name, access: { kind: 'level', level: 'none' } })}`,
    );
  return `${lines.join('\n')}\n`;
}

function credentialYaml(credential: CredentialSpec): string {
  if (credential.access.kind === 'level')
    return `{ name: ${credential.name}, permission: ${credential.access.level} }`;
  const grants = credential.access.grants.map(
    (g) =>
      `{ privileges: [${g.privileges.join(', ')}], on: ${g.on}${g.objects.length > 0 ? `, objects: [${g.objects.map((o) => JSON.stringify(o)).join(', ')}]` : ''} }`,
  );
  return `{ name: ${credential.name}, grants: [${grants.join(', ')}] }`;
}
