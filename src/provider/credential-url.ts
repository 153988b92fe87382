import { DEFAULT_CREDENTIAL } from '../model/config';
import { connectionInfoString, credentialUrl, endpointOf } from '../postgres/connection';
import { activeLogin } from '../reconciler/listing';
import { type Diagnostic, error } from './diagnostics';
import type { DataSourceOperations, ResourceResult } from './operations';
import { knownString } from './provider-config';
import type { ProviderSession } from './session';
import type { ObjectValue } from './values';

/**
 * pgcred_credential_url: what `pgcred credentials:url` prints, as sensitive values.
 * The password comes from the control store; for a default credential that is the
 * admin role itself, from the admin URL.
 */
export const credentialUrlOperations: DataSourceOperations = { read: readCredentialUrl };

async function readCredentialUrl(
  session: ProviderSession | undefined,
  config: ObjectValue,
): Promise<ResourceResult> {
  const fail = (diagnostics: Diagnostic[]) => ({ state: null, diagnostics });
  if (!session)
    return fail([
      error('Provider configuration not known', 'apply what the provider block depends on first'),
    ]);
  if (!knownString(config.database))
    return fail([error('Unknown database', 'database is not known yet', ['database'])]);
  const spec = session.database(config.database);
  if (!spec) {
    return fail([
      error('Unknown database', `the provider has no database block named "${config.database}"`, [
        'database',
      ]),
    ]);
  }
  const name = knownString(config.name) ? config.name : DEFAULT_CREDENTIAL;
  const ctx = await session.context();
  const login = await activeLogin(ctx, spec, name, await session.liveState(spec));
  const active = login?.user;
  const password = login?.password;
  if (!active || !password) {
    return fail([
      error(
        'Credential not found',
        `Could not find any active credentials for ${name} on ${spec.name}` +
          ' (a credential this configuration creates: add depends_on so it is read after the apply)',
        ['name'],
      ),
    ]);
  }
  const endpoint = endpointOf(spec.url);
  return {
    state: {
      id: `${spec.name}/${name}`,
      database: spec.name,
      name: config.name ?? null,
      username: active,
      url: credentialUrl(endpoint, active, password),
      connection_info: connectionInfoString(endpoint, active, password),
    },
    diagnostics: [],
  };
}
