import { Client, type ClientBase } from 'pg';
import { connectTimeout, connectWithin, type Endpoint } from '../postgres/connection';
import { verifyScram } from '../postgres/scram';
import type { PasswordStatus } from './diff';
import { catalogSql } from './inspect';
import type { LiveState } from './live-state';

/**
 * Whether each known password still opens its role. A superuser admin checks the
 * stored SCRAM verifiers (one query, no logins); anyone else logs in with each
 * known password, which never changes a verifier either.
 */
export async function checkPasswords(
  admin: ClientBase,
  live: LiveState,
  endpoint: Endpoint,
  known: ReadonlyMap<string, string>,
  usernames: readonly string[],
  /** True when pgcred set this verifier from this password (ControlStore.verifierDigests): no PBKDF2 then. */
  madeFrom: (username: string, password: string, verifier: string) => boolean = () => false,
  /** Gets each password PBKDF2 found opening its verifier, so apply can keep their digests. */
  verified?: { username: string; password: string; verifier: string }[],
): Promise<Map<string, PasswordStatus>> {
  const status = new Map<string, PasswordStatus>();
  const toCheck = usernames.filter((name) => live.roles.has(name));
  for (const name of toCheck) if (!known.has(name)) status.set(name, 'unknown');
  const withPassword = toCheck.filter((name) => known.has(name));
  if (withPassword.length === 0) return status;
  if (live.server.isSuperuser) {
    const { rows } = await admin.query(catalogSql('role_verifiers'), [withPassword]);
    const verifiers = new Map(rows.map((row) => [row.name as string, row.verifier as string | null]));
    const results = await Promise.all(
      withPassword.map((name) => {
        const password = known.get(name)!;
        const verifier = verifiers.get(name) ?? null;
        if (verifier !== null && madeFrom(name, password, verifier)) return true;
        return verifyScram(password, verifier).then((opens) => {
          if (opens && verifier !== null) verified?.push({ username: name, password, verifier });
          return opens;
        });
      }),
    );
    withPassword.forEach((name, i) => {
      status.set(name, results[i] ? 'ok' : 'changed');
    });
    return status;
  }
  // A few logins at a time: a database's password checks stay within its cluster's connection budget.
  const results: PasswordStatus[] = [];
  let next = 0;
  const worker = async () => {
    while (next < withPassword.length) {
      const i = next++;
      results[i] = await tryLogin(endpoint, withPassword[i]!, known.get(withPassword[i]!)!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOGINS_AT_A_TIME, withPassword.length) }, worker));
  withPassword.forEach((name, i) => {
    status.set(name, results[i]!);
  });
  return status;
}

/** Password-check logins one database opens at once (admins that are not superusers). */
export const LOGINS_AT_A_TIME = 4;

export async function tryLogin(endpoint: Endpoint, user: string, password: string): Promise<PasswordStatus> {
  const client = new Client({
    host: endpoint.host,
    port: endpoint.port,
    database: endpoint.database,
    user,
    password,
    connectionTimeoutMillis: connectTimeout(),
    application_name: 'pgcred password check',
  });
  client.on('error', () => undefined);
  try {
    await connectWithin(client);
    return 'ok';
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 28P01: wrong password. Anything after authentication (no CONNECT, too many
    // connections) means the password itself was accepted.
    if (code === '28P01') return 'changed';
    if (code === '42501' || code === '53300' || code === '28000') return 'ok';
    throw new Error(`cannot check the password of ${user}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
