import { credentialOfUsername, credentialUsername, type UsernameScheme } from '../model/names';
import type { LiveState } from './live-state';
import { parseManagedComment } from './markers';

/**
 * Each managed credential's role, by credential name: its username under the scheme,
 * else (a role made before the scheme) the role named like the credential.
 */
export function liveCredentialRoles(live: LiveState, scheme: UsernameScheme = {}): Map<string, string> {
  const roles = new Map<string, string>();
  const outside: string[] = [];
  for (const role of live.roles.values()) {
    const mark = parseManagedComment(role.comment);
    if (mark?.kind !== 'credential' || mark.database !== live.server.database) continue;
    const name = credentialOfUsername(scheme, role.name);
    if (name === undefined) outside.push(role.name);
    else roles.set(name, role.name);
  }
  for (const name of outside) if (!roles.has(name)) roles.set(name, name);
  return roles;
}

/** The role a command on credential `name` acts on: the live one, else its username under the scheme. */
export function liveUsernameOf(live: LiveState, scheme: UsernameScheme, name: string): string {
  return liveCredentialRoles(live, scheme).get(name) ?? credentialUsername(scheme, name);
}
