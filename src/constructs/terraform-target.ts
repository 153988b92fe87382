import { TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';
import { PgcredProvider } from './provider-pgcred';

/**
 * Which Terraform provider a database's credentials synthesize to:
 * `postgresql` (@cdktf/provider-postgresql: postgresql_role, postgresql_grant,
 * postgresql_default_privileges; attachments are left to `pgcred apply`) or
 * `pgcred` (pgcred's own provider: pgcred_credential, pgcred_app and
 * pgcred_attachment, so `cdktf deploy` also makes passwords, apps and attachments).
 */
export type TerraformProviderName = 'postgresql' | 'pgcred';

const PROVIDER_ID = 'PgcredProvider';

/** The stack's one pgcred provider (one control store, one process), made on first use. */
export function pgcredProviderOf(scope: IConstruct): PgcredProvider {
  const stack = TerraformStack.of(scope);
  return (
    (stack.node.tryFindChild(PROVIDER_ID) as PgcredProvider | undefined) ??
    new PgcredProvider(stack, PROVIDER_ID)
  );
}
