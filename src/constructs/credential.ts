import { GrantRole } from '@cdktf/provider-postgresql/lib/grant-role';
import { Role } from '@cdktf/provider-postgresql/lib/role';
import { Construct } from 'constructs';
import type { Access, CredentialSpec } from '../model/config';
import { hasLevelRole } from '../model/level-roles';
import { credentialUsername } from '../model/names';
import type { Database } from './database';
import { Grant, type GrantResult, type SequenceGrantPrivilege } from './grant';
import { Manifest } from './manifest';
import { Permission } from './permission';
import { addPrivilegeResources } from './privilege-resources';
import { PgcredCredential } from './provider-pgcred';
import type { Rotation } from './rotation';
import { type TerraformPrivileges, terraformPrivileges } from './terraform-privileges';
import { pgcredProviderOf } from './terraform-target';

/** A credential as attachments refer to it: one declared here, a database's default, or one declared elsewhere. */
export interface ICredential {
  /** Its name, which is also its PostgreSQL username (`default` for the database owner). */
  readonly credentialName: string;
  /** The database it belongs to. */
  readonly database: Database;
}

/** Props of a credential created with `database.addCredential`. */
export interface CredentialOptions {
  /** Letters, digits, '-' and '_', at most 50: the PostgreSQL username, so `<name>-rotating` still fits. */
  readonly name: string;
  /**
   * Its permission level over every covered schema.
   * @default Permission.none(), or custom grants once `grants` or a grant method is used
   */
  readonly permission?: Permission;
  /**
   * Custom grants instead of a level, as in the seed's GRANT examples.
   * @default - none
   */
  readonly grants?: readonly Grant[];
  /**
   * Group roles pgcred does not manage that the credential is a member of and reads
   * through (`GRANT staff TO credential`), besides its level or grants.
   * @default - none: a credential belongs to no role
   */
  readonly memberOf?: readonly string[];
  /**
   * When pgcred rotates its password.
   * @default - on request only (`pgcred credentials:rotate`), with a 30-minute grace
   */
  readonly rotation?: Rotation;
  /**
   * With the pgcred Terraform provider: any change of this value (a date, say) makes
   * the next deploy rotate the password, the zero-downtime way, within the grace.
   * @default - none: rotate with `pgcred credentials:rotate` or a rotation policy
   */
  readonly rotationTrigger?: string;
}

/** Props of a `Credential`. */
export interface CredentialProps extends CredentialOptions {
  /** The database whose credential this is. */
  readonly database: Database;
}

/**
 * A credential: a LOGIN role named after it, with a permission level or custom
 * grants. Terraform creates the role without a password; pgcred sets and rotates
 * the password and hands it to the attached apps.
 */
export class Credential extends Construct implements ICredential {
  /** A credential declared outside this stack, to attach by name; synth checks that the database declares it. */
  static fromName(database: Database, name: string): ICredential {
    return { credentialName: name, database };
  }

  readonly credentialName: string;
  readonly database: Database;
  readonly rotation?: Rotation;
  readonly rotationTrigger?: string;
  readonly memberOf: readonly string[];

  private readonly permission?: Permission;
  private pgcredCredential?: PgcredCredential;
  private readonly grantList: Grant[] = [];
  private synthesized = false;

  constructor(scope: Construct, id: string, props: CredentialProps) {
    super(scope, id);
    if (props.permission && props.grants && props.grants.length > 0) {
      throw new Error(
        `${this.node.path}: give a permission level or custom grants, not both (custom grants replace the level)`,
      );
    }
    this.credentialName = props.name;
    this.database = props.database;
    this.permission = props.permission;
    this.rotation = props.rotation;
    this.rotationTrigger = props.rotationTrigger;
    this.memberOf = [...(props.memberOf ?? [])];
    this.grantList.push(...(props.grants ?? []));
    props.database._registerCredential(this);
    this.node.addValidation({
      validate: () => [...Manifest.of(this).problemsFor(this), ...this.terraformProblems()],
    });
  }

  /** The credential's access in the model's terms. */
  get access(): Access {
    if (this.grantList.length > 0) return { kind: 'grants', grants: this.grantList.map((g) => g.spec) };
    return { kind: 'level', level: (this.permission ?? Permission.none()).level.name };
  }

  /** Adds a custom grant; a credential with a permission level cannot take one. */
  addGrant(grant: Grant): GrantResult {
    if (this.permission) {
      throw new Error(
        `${this.node.path}: credential ${this.credentialName} has permission level ${this.permission}; ` +
          'custom grants replace a level, so declare it without `permission`',
      );
    }
    if (this.synthesized) {
      throw new Error(`${this.node.path}: grants must be added before the stack is synthesized`);
    }
    this.grantList.push(grant);
    Manifest.of(this).changed();
    return { grantee: this.credentialName, grant };
  }

  /** `GRANT SELECT ON TABLE ...` (tables, views, materialized views; `schema.name`, default schema public). */
  grantSelect(...tables: string[]): GrantResult {
    return this.addGrant(Grant.onTables(tables, ['SELECT']));
  }

  /** `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ...`. */
  grantReadWrite(...tables: string[]): GrantResult {
    return this.addGrant(Grant.onTables(tables, ['SELECT', 'INSERT', 'UPDATE', 'DELETE']));
  }

  /** `GRANT USAGE, SELECT ON SEQUENCE ...`: generate values with nextval(). */
  grantSequenceUsage(...sequences: string[]): GrantResult {
    const privileges: SequenceGrantPrivilege[] = ['USAGE', 'SELECT'];
    return this.addGrant(Grant.onSequences(sequences, privileges));
  }

  /** The credential in the model's terms. */
  spec(): CredentialSpec {
    return {
      name: this.credentialName,
      access: this.access,
      ...(this.memberOf.length > 0 ? { memberOf: this.memberOf } : {}),
      rotation: this.rotation?.policy,
    };
  }

  /**
   * @internal Creates the Terraform resources from the final access; the stack's
   * pgcred aspect calls it before validation, once grant methods can no longer change it.
   */
  _synthesizeTerraform(): void {
    if (this.synthesized || !this.database.hasTerraformResources) return;
    this.synthesized = true;
    if (this.database.targetsPgcred) {
      this.synthesizePgcred();
      return;
    }
    const { provider, database } = this.database.terraform;
    // Construct ids here become Terraform addresses: renaming one makes Terraform drop and recreate it.
    const access = this.access;
    const level = access.kind === 'level' && hasLevelRole(access.level) ? access.level : undefined;
    const role = new Role(this, 'Role', {
      provider,
      // The role is the credential's username under the database's scheme (model/names.ts).
      name: credentialUsername(this.database, this.credentialName),
      login: true,
      // A level is a membership of the database's level role; CONNECT stays the credential's own.
      roles: level ? [this.database._levelRole(level).name] : undefined,
      // pgcred owns the password: it sets it after Terraform creates the role and rotates it later.
      lifecycle: { ignoreChanges: ['password'] },
    });
    const privileges = level
      ? terraformPrivileges({ kind: 'level', level: 'none' }, this.database.schemas)
      : this.terraformPrivileges();
    if (!privileges) return;
    addPrivilegeResources(
      this,
      { provider, database, role: role.name, owner: this.database.owner! }, // always named for the postgresql provider
      privileges,
    );
    for (const group of this.memberOf) {
      new GrantRole(this, `Member-${group}`, { provider, role: role.name, grantRole: group });
    }
  }

  /**
   * @internal The name attachments refer to: with the pgcred provider, a reference to
   * its pgcred_credential, so Terraform attaches after creating and detaches before destroying.
   */
  _terraformName(): string {
    this._synthesizeTerraform();
    return this.pgcredCredential?.name ?? this.credentialName;
  }

  /** One pgcred_credential: the provider converges the level or grants with pgcred's reconciler. */
  private synthesizePgcred(): void {
    const access = this.access;
    this.pgcredCredential = new PgcredCredential(this, 'Credential', {
      provider: pgcredProviderOf(this),
      database: this.database.name,
      name: this.credentialName,
      ...(access.kind === 'level'
        ? { permission: access.level }
        : {
            grant: access.grants.map((g) => ({
              privileges: g.privileges,
              on: g.on,
              objects: g.objects.length > 0 ? g.objects : undefined,
            })),
          }),
      rotation: this.rotation && { every: this.rotation.every, grace: this.rotation.grace },
      rotationTrigger: this.rotationTrigger,
    });
  }

  private terraformProblems(): string[] {
    const problems: string[] = [];
    if (this.rotationTrigger !== undefined && !this.database.targetsPgcred) {
      problems.push(
        "rotationTrigger needs the pgcred Terraform provider (terraformProvider: 'pgcred' on the database); " +
          'otherwise rotate with pgcred credentials:rotate or a rotation policy',
      );
    }
    if (this.database.hasTerraformResources && !this.database.targetsPgcred) {
      problems.push(...(this.terraformPrivileges()?.conflicts ?? []));
    }
    if (this.database.targetsPgcred) {
      // pgcred_credential's grant block has no columns, and the resource no memberships yet.
      const access = this.access;
      if (access.kind === 'grants' && access.grants.some((g) => g.on === 'column'))
        problems.push(
          'column grants need the postgresql provider or executor pgcred, not the pgcred Terraform provider',
        );
      if (this.memberOf.length > 0)
        problems.push(
          'memberOf needs the postgresql provider or executor pgcred, not the pgcred Terraform provider',
        );
    }
    return problems;
  }

  private terraformPrivileges(): TerraformPrivileges | undefined {
    try {
      return terraformPrivileges(this.access, this.database.schemas);
    } catch {
      // A grant that does not parse is reported by the model's validation, with its path.
      return undefined;
    }
  }
}
