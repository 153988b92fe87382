import type { DatabaseSpec } from '../model/config';
import { credentialUsername } from '../model/names';
import { USERNAME_STATE_TEXT, usernamesAt } from '../model/rotation-steps';
import { inspectDatabase, liveCredentialRoles } from './credentials';
import { ownerName } from './diff';
import type { LiveState } from './live-state';
import { credentialSource, type ReconcileContext } from './reconcile';

export interface ListedUsername {
  readonly user: string;
  readonly state: string;
  readonly connections: number;
}

export interface ListedCredential {
  readonly name: string;
  /** active, rotating, or `not created` for a declared credential that apply has not made yet */
  readonly state: string;
  readonly username: string;
  readonly attachments: readonly { readonly app: string; readonly name: string }[];
  /** During a rotation: both usernames with their states and connections. */
  readonly usernames?: readonly ListedUsername[];
  /**
   * Whether pgcred has the password of the username apps would use now (absent when
   * the credential is not created): without it credentials:url, attachments and a
   * graceful rotation cannot work. An adopted role or a default credential that
   * predates pgcred is active for its own users all the same.
   */
  readonly passwordKnown?: boolean;
}

/** How the listing says that a credential works for its users but pgcred cannot hand it out. */
export const PASSWORD_UNKNOWN_STATE = 'password unknown to pgcred';

/**
 * The password apps would log in with: the one pgcred stores, else, for the admin's
 * own username, the admin URL's. The stored one wins: after pgcred rotated the
 * default credential it logs in as, the URL's is the old one.
 */
function passwordOf(
  spec: DatabaseSpec,
  live: LiveState,
  user: string,
  stored: string | undefined,
): string | undefined {
  if (stored) return stored;
  const admin = new URL(spec.url);
  if (user === live.server.currentUser && decodeURIComponent(admin.username) === user && admin.password)
    return decodeURIComponent(admin.password);
  return undefined;
}

function activeUsername(entry: ListedCredential): string {
  return entry.usernames?.find((u) => u.state === 'active')?.user ?? entry.username;
}

/** `pgcred credentials`: default first, then by name; the attachments of each; usernames while rotating. */
export async function listCredentials(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  known?: LiveState,
): Promise<ListedCredential[]> {
  const live = known ?? (await inspectDatabase(spec, ctx));
  const source = credentialSource(ctx.config, spec);
  const owner = ownerName(source, live);
  const attachments = await ctx.control.attachments.list({ database: source.name });
  const rotations = await ctx.control.rotations.openAll(source.name);
  const rotationOf = new Map(rotations.map((r) => [r.credential, r]));
  const stored = await ctx.control.getPasswords(source.name);
  const liveRoles = liveCredentialRoles(live, source);
  const names = new Set(liveRoles.keys());
  const declared = source.credentials.map((c) => c.name);
  const all = ['default', ...[...new Set([...names, ...declared])].sort()];
  return all.map((name) => {
    const username = name === 'default' ? owner : (liveRoles.get(name) ?? credentialUsername(source, name));
    const exists = live.roles.has(username);
    const rotation = rotationOf.get(name);
    const listed: ListedCredential = {
      name,
      state: !exists ? 'not created' : rotation ? 'rotating' : 'active',
      username,
      attachments: attachments
        .filter((a) => a.credential === name)
        .map((a) => ({ app: a.app, name: a.name })),
      ...(rotation
        ? {
            usernames: usernamesAt(username, rotation.step, rotation.force).map((u) => ({
              user: u.user,
              state: USERNAME_STATE_TEXT[u.state],
              connections: live.roles.get(u.user)?.connections ?? 0,
            })),
          }
        : {}),
    };
    return exists
      ? {
          ...listed,
          passwordKnown:
            passwordOf(spec, live, activeUsername(listed), stored.get(activeUsername(listed))) !== undefined,
        }
      : listed;
  });
}

/** Why credentials:url has nothing to print, or the login it prints. */
export type LoginLookup =
  | { readonly found: true; readonly user: string; readonly password: string }
  | { readonly found: false; readonly reason: 'not created' }
  | { readonly found: false; readonly reason: 'password unknown'; readonly user: string };

export async function findLogin(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  known?: LiveState,
): Promise<LoginLookup> {
  const live = known ?? (await inspectDatabase(spec, ctx));
  const entry = (await listCredentials(ctx, spec, live)).find((c) => c.name === name);
  if (!entry || entry.state === 'not created') return { found: false, reason: 'not created' };
  const user = activeUsername(entry);
  const stored = await ctx.control.getPassword(credentialSource(ctx.config, spec).name, user);
  const found = passwordOf(spec, live, user, stored);
  return found ? { found: true, user, password: found } : { found: false, reason: 'password unknown', user };
}

/**
 * The username a credential's apps should use now (`<name>-rotating` during part of
 * a rotation) and its password, as `credentials:url` prints them; undefined when
 * there is none or pgcred does not know its password.
 */
export async function activeLogin(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  known?: LiveState,
): Promise<{ user: string; password: string } | undefined> {
  const login = await findLogin(ctx, spec, name, known);
  return login.found ? { user: login.user, password: login.password } : undefined;
}

/** The listing as the Heroku CLI prints it. */
export function renderListing(credentials: readonly ListedCredential[]): string {
  const width = Math.max('Credential'.length, ...credentials.map((c) => c.name.length), 40);
  const stateOf = (c: ListedCredential) =>
    c.passwordKnown === false ? `${c.state}, ${PASSWORD_UNKNOWN_STATE}` : c.state;
  const stateWidth = Math.max('State'.length, ...credentials.map((c) => stateOf(c).length));
  const lines = [`${'Credential'.padEnd(width)}  State`, `${'─'.repeat(width)}  ${'─'.repeat(stateWidth)}`];
  for (const credential of credentials) {
    lines.push(`${credential.name.padEnd(width)}  ${stateOf(credential)}`);
    credential.attachments.forEach((attachment, i) => {
      const branch = i === credential.attachments.length - 1 ? '└─' : '├─';
      lines.push(` ${branch} as ${attachment.name} on ${attachment.app} app`);
    });
    if (credential.usernames) {
      lines.push('       Usernames currently active for this credential:');
      const userWidth = Math.max(...credential.usernames.map((u) => u.user.length));
      const stateText = Math.max(...credential.usernames.map((u) => u.state.length));
      for (const u of credential.usernames) {
        lines.push(
          `       ${u.user.padEnd(userWidth)}  ${u.state.padEnd(stateText)}  ${u.connections} connection${u.connections === 1 ? '' : 's'}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
