import { createHash, timingSafeEqual } from 'node:crypto';
import type { DatabaseSpec } from '../model/config';
import { DEFAULT_CREDENTIAL } from '../model/config';
import { credentialUsername } from '../model/names';
import { endpointOf } from '../postgres/connection';
import { verifyScram } from '../postgres/scram';
import { CredentialError, refuseUnlessWritable } from './credentials';
import { ownerName } from './diff';
import { catalogSql, inspect } from './inspect';
import { parseManagedComment } from './markers';
import { tryLogin } from './passwords';
import { credentialSource, openAdmin, type ReconcileContext } from './reconcile';

export type VerifiedBy = 'SCRAM verifier' | 'md5 hash' | 'logging in';

/**
 * Takes the current password of an adopted credential or of the default credential,
 * so that credentials:url, attachments and rotation work without changing it. The
 * password is checked against the role before it is stored: against the SCRAM
 * verifier or md5 hash when the admin may read pg_authid, else by logging in.
 */
export async function handOverPassword(
  ctx: ReconcileContext,
  spec: DatabaseSpec,
  name: string,
  password: string,
): Promise<{ username: string; verifiedBy: VerifiedBy }> {
  const source = credentialSource(ctx.config, spec);
  const client = await openAdmin(ctx, spec);
  let username: string;
  let verifiedBy: VerifiedBy;
  try {
    const live = await inspect(client, source.owner ? { owner: source.owner } : {});
    refuseUnlessWritable(spec, live);
    username = name === DEFAULT_CREDENTIAL ? ownerName(source, live) : credentialUsername(source, name);
    const role = live.roles.get(username);
    if (!role) throw new CredentialError(`Credential ${name} does not exist on ${spec.name}.`);
    const mark = parseManagedComment(role.comment);
    const declared = source.credentials.some((c) => c.name === name);
    if (name !== DEFAULT_CREDENTIAL && !declared && !(mark && mark.database === live.server.database)) {
      throw new CredentialError(
        `Credential ${name} is not managed by pgcred on ${spec.name}: declare it in the file and apply first.`,
      );
    }
    if (live.server.isSuperuser) {
      const { rows } = await client.query(catalogSql('role_verifiers'), [[username]]);
      const stored = (rows[0]?.verifier as string | null | undefined) ?? null;
      if (stored === null) throw new CredentialError(`Role ${username} has no password to hand over.`);
      if (stored.startsWith('md5')) {
        const hash = `md5${createHash('md5')
          .update(password + username)
          .digest('hex')}`;
        if (hash.length !== stored.length || !timingSafeEqual(Buffer.from(hash), Buffer.from(stored)))
          throw wrong(name, spec);
        verifiedBy = 'md5 hash';
      } else {
        if (!(await verifyScram(password, stored))) throw wrong(name, spec);
        verifiedBy = 'SCRAM verifier';
      }
    } else {
      if ((await tryLogin(endpointOf(spec.url), username, password)) !== 'ok') throw wrong(name, spec);
      verifiedBy = 'logging in';
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  await ctx.control.setPassword(source.name, username, password);
  await ctx.control.audit({
    action: 'password-handed-over',
    database: source.name,
    subject: name,
    detail: { verifiedBy },
  });
  return { username, verifiedBy };
}

function wrong(name: string, spec: DatabaseSpec): CredentialError {
  return new CredentialError(
    `That is not the current password of credential ${name} on ${spec.name}: nothing was stored.`,
  );
}
