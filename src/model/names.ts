import { createHash } from 'node:crypto';
/**
 * Credential names: letters, digits, '-' and '_', at most 50 characters, so that
 * `<name>-rotating` (59 bytes) still fits PostgreSQL's 63-byte identifiers.
 */
export const CREDENTIAL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,50}$/;
export const CREDENTIAL_NAME_MAX = 50;
export const ROTATING_SUFFIX = '-rotating';

/**
 * Names a credential may not take: the listing's `default`, PostgreSQL's own roles
 * and the pseudo-roles that GRANT understands. Compared case-insensitively because a
 * reviewer reading `Public` in a plan would take it for PUBLIC.
 */
const RESERVED = new Set([
  'default',
  'postgres',
  'public',
  'current_user',
  'current_role',
  'session_user',
  'user',
  'none',
  'all',
  'pgcred',
]);

/** A name as a message shows it: JSON-quoted, so quotes and newlines cannot break the line, and cut at 60 characters. */
export function showName(name: string): string {
  const text = JSON.stringify(name);
  return text.length > 62 ? `${text.slice(0, 58)}…"` : text;
}

export function credentialNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (!CREDENTIAL_NAME_PATTERN.test(name)) {
    return `${showName(name)} may contain only letters, digits, '-' and '_' (at most ${CREDENTIAL_NAME_MAX})`;
  }
  const reserved = reservedRoleProblem(name);
  if (reserved) return reserved;
  if (name.toLowerCase().endsWith(ROTATING_SUFFIX)) {
    return `${showName(name)} is reserved: names ending in ${ROTATING_SUFFIX} are used during rotation`;
  }
  return undefined;
}

/** Names no role pgcred manages may take (the default credential's username included). */
export function reservedRoleProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (RESERVED.has(lower)) return `${showName(name)} is a reserved name`;
  if (lower.startsWith('pg_'))
    return `${showName(name)} is reserved: names starting with pg_ belong to PostgreSQL`;
  return undefined;
}

/** The temporary username of a rotation: `<username>-rotating`, from the credential's username. */
export function rotatingUsername(username: string): string {
  return `${username}${ROTATING_SUFFIX}`;
}

/** PostgreSQL's identifiers: at most 63 bytes (NAMEDATALEN - 1). */
export const IDENTIFIER_MAX_BYTES = 63;

/** A database's username scheme: `usernamePrefix` (absent: a credential logs in under its own name). */
export interface UsernameScheme {
  readonly usernamePrefix?: string;
}

/**
 * The one mapping from a credential's name to the role it logs in as: `analyst` of a
 * database with `usernamePrefix: db17_` is `db17_analyst`. Everything that names a role
 * (diff, apply, rotation, destroy, URLs) goes through it; what people read (listings,
 * attachments, plan subjects, audit) keeps the credential's name. Not for the default
 * credential, whose username is the database owner's.
 */
export function credentialUsername(scheme: UsernameScheme, credential: string): string {
  return `${scheme.usernamePrefix ?? ''}${credential}`;
}

/** The credential a username of this scheme belongs to, or undefined when the scheme cannot make it. */
export function credentialOfUsername(scheme: UsernameScheme, username: string): string | undefined {
  const prefix = scheme.usernamePrefix ?? '';
  if (!username.startsWith(prefix) || username.length === prefix.length) return undefined;
  return username.slice(prefix.length);
}

/** The prefix: a role-name start (letter or '_'), then letters, digits, '_' and '-'. */
export const USERNAME_PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,53}$/;

/** What is wrong with the username (and rotating username) a credential gets under a scheme. */
export function usernameProblem(scheme: UsernameScheme, credential: string): string | undefined {
  if (scheme.usernamePrefix === undefined) return undefined;
  const username = credentialUsername(scheme, credential);
  const temp = rotatingUsername(username);
  const bytes = Buffer.byteLength(temp, 'utf8');
  if (bytes > IDENTIFIER_MAX_BYTES) {
    return `username ${showName(username)} (usernamePrefix ${showName(scheme.usernamePrefix)} and credential ${showName(credential)}) is too long: its rotating username ${showName(temp)} has ${bytes} bytes, PostgreSQL allows ${IDENTIFIER_MAX_BYTES}`;
  }
  return reservedRoleProblem(username);
}

/** App and config-var names follow Heroku's: lower-case app names, upper-case var names. */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{1,29}$/;
export const ATTACHMENT_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,49}$/;
export const DATABASE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;

/**
 * Heroku's default usernames look random; pgcred derives one from the database
 * name so that every run, and every machine, agrees on it without storing it.
 */
export function derivedOwnerName(database: string): string {
  const digest = createHash('sha256').update(`pgcred-default:${database}`).digest();
  let name = 'u';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; name.length < 14; i++) name += alphabet[digest[i]! % alphabet.length];
  return name;
}
