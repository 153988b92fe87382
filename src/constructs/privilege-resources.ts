import { DefaultPrivileges } from '@cdktf/provider-postgresql/lib/default-privileges';
import { Grant as PostgresqlGrant } from '@cdktf/provider-postgresql/lib/grant';
import type { PostgresqlProvider } from '@cdktf/provider-postgresql/lib/provider';
import type { Construct } from 'constructs';
import type { TerraformPrivileges } from './terraform-privileges';

/** Where and to whom the resources grant. */
export interface PrivilegeTarget {
  readonly provider: PostgresqlProvider;
  readonly database: string;
  /** The grantee: a credential's or a level role's postgresql_role name. */
  readonly role: string;
  /** Whose future objects the default privileges cover: the default credential. */
  readonly owner: string;
  /** Prefixes the construct ids, which are Terraform addresses: keep them stable. */
  readonly idPrefix?: string;
}

/**
 * One postgresql_grant per grant and one postgresql_default_privileges per default
 * entry, for a credential's access or a level role's, so the two synthesize alike.
 */
export function addPrivilegeResources(
  scope: Construct,
  target: PrivilegeTarget,
  privileges: TerraformPrivileges,
): void {
  const { provider, database, role, owner } = target;
  const id = (suffix: string) => (target.idPrefix ? `${target.idPrefix}-${suffix}` : suffix);
  for (const grant of privileges.grants) {
    if (grant.privileges.length === 0) continue;
    new PostgresqlGrant(scope, id(grant.id), {
      provider,
      database,
      role,
      objectType: grant.objectType,
      schema: grant.schema,
      objects: grant.objects.length > 0 ? [...grant.objects] : undefined,
      columns: grant.columns ? [...grant.columns] : undefined,
      privileges: [...grant.privileges],
    });
  }
  for (const defaults of privileges.defaults) {
    new DefaultPrivileges(scope, id(defaults.id), {
      provider,
      database,
      role,
      owner,
      objectType: defaults.objectType,
      schema: defaults.schema,
      privileges: [...defaults.privileges],
    });
  }
}
