import { Grant as PostgresqlGrant } from '@cdktf/provider-postgresql/lib/grant';
import { Role } from '@cdktf/provider-postgresql/lib/role';
import { Construct } from 'constructs';
import { defaultColor } from '../config/load';
import type { AttachmentColor } from '../model/colors';
import { type DatabaseSpec, DEFAULT_CREDENTIAL, type Executor, type PublicPolicy } from '../model/config';
import { CONTROL_SCHEMA } from '../model/control-schema';
import { parseSchemaName } from '../model/identifiers';
import { levelRoleName, ROLE_LEVELS, type RoleLevel } from '../model/level-roles';
import { derivedOwnerName } from '../model/names';
import type { AdminConnection, BoundAdminConnection } from './admin-connection';
import { Credential, type CredentialOptions, type ICredential } from './credential';
import { DatabasePlan } from './database-plan';
import { DatabaseRole, type IDatabaseSource } from './database-role';
import { Manifest } from './manifest';
import { addPrivilegeResources } from './privilege-resources';
import { terraformPrivileges } from './terraform-privileges';
import { pgcredProviderOf, type TerraformProviderName } from './terraform-target';

/** Props of a `Database`. */
export interface DatabaseProps {
  /** Heroku-style name (`postgresql-sunny-1234`): how plans, listings and attachments refer to it. */
  readonly name: string;
  /** How Terraform and pgcred log in as its admin. */
  readonly admin: AdminConnection;
  /**
   * Its plan: Essential and legacy hobby plans have only the default credential.
   * @default DatabasePlan.STANDARD_0
   */
  readonly plan?: DatabasePlan;
  /**
   * Shown in prompts and listings, and preferred for HEROKU_POSTGRESQL_<COLOR> attachment names.
   * @default - a color derived from the name, as pgcred.yaml does
   */
  readonly color?: AttachmentColor;
  /**
   * Primary, follower or fork. A follower gets no Terraform resources: replication brings its credentials.
   * @default DatabaseRole.PRIMARY
   */
  readonly role?: DatabaseRole;
  /**
   * The schemas that permission levels and the PUBLIC hardening cover in Terraform
   * (postgresql_grant needs them by name; the reconciler covers every schema it finds).
   * Schemas created later by the default credential are covered by default privileges either way.
   * @default ['public']
   */
  readonly schemas?: readonly string[];
  /**
   * Username of the default credential, which owns the database and the objects the
   * levels cover. Set it when the database already belongs to an ordinary role.
   * @default - with the pgcred provider, chosen at apply as pgcred does (the database's
   * owner when it is an ordinary role, else a name derived from the database's);
   * with the postgresql provider, derived from the name (its default privileges must
   * name the owner at synth)
   */
  readonly owner?: string;
  /**
   * The username scheme, as `usernamePrefix:` in pgcred.yaml: credential `analyst`
   * logs in as `<usernamePrefix>analyst` (`db17_` gives `db17_analyst`), so many
   * databases of one cluster can each have an `analyst`. The default credential keeps
   * its username. Not yet with `terraformProvider: 'pgcred'`.
   * @default - a credential logs in under its own name
   */
  readonly usernamePrefix?: string;
  /**
   * Credentials allowed besides default.
   * @default - the plan's limit (60)
   */
  readonly credentialLimit?: number;
  /**
   * Who creates roles and grants: `terraform` (the postgresql_* resources of this
   * stack) or `pgcred` (the reconciler alone; no roles or grants are synthesized).
   * Passwords, rotation and attachments are always pgcred's.
   * @default 'terraform'
   */
  readonly executor?: Executor;
  /**
   * Roles pgcred neither manages nor reports.
   * @default - none
   */
  readonly ignoreRoles?: readonly string[];
  /**
   * What pgcred does with PUBLIC's privileges, as `public:` in pgcred.yaml: `auto`
   * takes them away only where no role pgcred does not manage reaches the database,
   * `keep` never does (what `pgcred import` writes), `harden` always does. A stack
   * whose Terraform makes the grants (postgresql provider) cannot see the cluster at
   * synth, so there `auto` keeps PUBLIC as it is and only `harden` revokes.
   * @default 'auto'
   */
  readonly public?: PublicPolicy;
  /**
   * The Terraform provider its credentials synthesize to, when Terraform creates
   * them (`executor: 'terraform'`): `postgresql` (postgresql_role and grants;
   * `pgcred apply --manifest` then sets passwords and makes attachments) or
   * `pgcred` (pgcred's own provider, installed with `npm run provider:install`:
   * pgcred_credential, pgcred_app and pgcred_attachment, so `cdktf deploy` does it
   * all). One stack targets one provider.
   * @default 'postgresql'
   */
  readonly terraformProvider?: TerraformProviderName;
}

/**
 * A PostgreSQL database with Heroku's credential model: its credentials become
 * postgresql_role and postgresql_grant resources, and the stack's pgcred manifest
 * carries it for `pgcred plan|apply|drift --manifest`.
 */
export class Database extends Construct implements IDatabaseSource {
  /** Heroku-style name. */
  readonly name: string;
  readonly plan: DatabasePlan;
  readonly color: string;
  readonly role: DatabaseRole;
  readonly schemas: readonly string[];
  /**
   * Username of the default credential when the stack names it: declared, or derived
   * for the postgresql provider. Undefined with the pgcred provider unless declared:
   * the provider reads it from the live database at apply.
   */
  readonly owner: string | undefined;
  /** The username scheme's prefix (see DatabaseProps.usernamePrefix). */
  readonly usernamePrefix: string | undefined;
  readonly executor: Executor;
  readonly terraformProvider: TerraformProviderName;
  readonly admin: AdminConnection;
  /** The database owner, listed as `default`; attach it like any credential. */
  readonly defaultCredential: ICredential;

  private readonly props: DatabaseProps;
  private readonly credentialList: Credential[] = [];
  private terraformConnection?: BoundAdminConnection;
  private readonly levelRoles = new Map<RoleLevel, Role>();

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name;
    this.plan = props.plan ?? DatabasePlan.STANDARD_0;
    this.color = props.color ?? defaultColor(props.name);
    this.role = props.role ?? DatabaseRole.PRIMARY;
    this.executor = props.executor ?? 'terraform';
    this.terraformProvider = props.terraformProvider ?? 'postgresql';
    // A derived name baked into the stack would override the live owner pgcred finds
    // (an ordinary role that owns the database already). Stacks deployed when it was
    // baked need no change: the derived role owns the database by then, so the provider
    // finds the same owner in the live database, and nothing is replaced.
    this.owner =
      props.owner ??
      (this.terraformProvider === 'pgcred' && this.executor === 'terraform'
        ? undefined
        : derivedOwnerName(props.name));
    this.admin = props.admin;
    this.usernamePrefix = props.usernamePrefix;
    if (this.terraformProvider === 'pgcred' && props.schemas) {
      throw new Error(
        `${this.node.path}: schemas names what postgresql_grant covers; the pgcred provider covers every ` +
          'non-system schema, as pgcred does: leave schemas out',
      );
    }
    this.schemas = checkSchemas(props.schemas ?? ['public']);
    this.defaultCredential = { credentialName: DEFAULT_CREDENTIAL, database: this };

    const manifest = Manifest.of(this);
    manifest.addDatabase(this);
    this.node.addValidation({ validate: () => manifest.problemsFor(this) });

    if (this.targetsPgcred) this.addToPgcredProvider();
    // Terraform's plan cannot look at the cluster to see whether roles pgcred does not
    // manage reach the database through PUBLIC, so a stack hardens PUBLIC only when told.
    else if (this.hasTerraformResources && props.public === 'harden') this.hardenPublic();
    if (this.hasTerraformResources && !this.targetsPgcred) this.addLevelRoles();
  }

  /** True when this stack's Terraform creates the credentials with the pgcred provider. */
  get targetsPgcred(): boolean {
    return this.hasTerraformResources && this.terraformProvider === 'pgcred';
  }

  /** True when this stack's Terraform creates the roles and grants. */
  get hasTerraformResources(): boolean {
    return this.executor === 'terraform' && this.role.name !== 'follower';
  }

  /** The credentials declared on this database, in declaration order. */
  get credentials(): readonly Credential[] {
    return this.credentialList;
  }

  /** Declares a credential of this database, as a child construct with id `id`. */
  addCredential(id: string, options: CredentialOptions): Credential {
    return new Credential(this, id, { ...options, database: this });
  }

  /** Where the Terraform resources connect; made on first use, so an executor of pgcred adds no provider. */
  get terraform(): BoundAdminConnection {
    if (!this.terraformConnection) this.terraformConnection = this.admin.bind(this, this.name);
    return this.terraformConnection;
  }

  /** @internal The postgresql_role of a level: a credential at the level lists it in its `roles`. */
  _levelRole(level: RoleLevel): Role {
    const role = this.levelRoles.get(level);
    if (!role) throw new Error(`${this.node.path}: database ${this.name} has no Terraform level roles`);
    return role;
  }

  /** @internal Called by Credential. */
  _registerCredential(credential: Credential): void {
    this.credentialList.push(credential);
    Manifest.of(this).changed();
  }

  /** The database in the model's terms. */
  spec(): DatabaseSpec {
    return {
      name: this.name,
      url: this.admin.urlReference,
      plan: this.plan.name,
      color: this.color,
      role: this.role.name,
      source: this.role.source?.name,
      owner: this.owner,
      ...(this.usernamePrefix !== undefined ? { usernamePrefix: this.usernamePrefix } : {}),
      credentialLimit: this.props.credentialLimit,
      executor: this.executor,
      ignoreRoles: [...(this.props.ignoreRoles ?? [])],
      // The manifest says what the stack does, so that drift and Terraform agree on PUBLIC.
      ...(this.hasTerraformResources && !this.targetsPgcred
        ? { public: this.props.public === 'harden' ? 'harden' : 'keep' }
        : this.props.public && this.props.public !== 'auto'
          ? { public: this.props.public }
          : {}),
      credentials: this.credentialList.map((credential) => credential.spec()),
    };
  }

  /**
   * A `database` block of the stack's pgcred provider. The provider makes the
   * database Heroku-shaped itself (default credential, PUBLIC holds nothing).
   */
  private addToPgcredProvider(): void {
    pgcredProviderOf(this).addDatabase({
      name: this.name,
      url: this.admin.bindUrl(this, this.name),
      plan: this.plan.name,
      color: this.color,
      owner: this.owner,
      credentialLimit: this.props.credentialLimit,
      usernamePrefix: this.usernamePrefix,
    });
  }

  /**
   * One NOLOGIN role per level that grants something, holding the level's privileges
   * on the covered schemas, as the reconciler makes them: a credential at a level is
   * a member of it (its `roles`), so a level change is one changed line of the plan.
   * PostgreSQL 16's INHERIT TRUE, SET FALSE options, which `roles` cannot say, are set
   * by `pgcred apply --manifest`; Terraform reads back membership only, so neither undoes the other.
   */
  private addLevelRoles(): void {
    const { provider, database } = this.terraform;
    for (const level of ROLE_LEVELS) {
      // These ids are Terraform addresses: keep them.
      const id = level === 'read-only' ? 'LevelRoleReadOnly' : 'LevelRoleReadWrite';
      const role = new Role(this, id, {
        provider,
        name: levelRoleName(this.name, level),
        login: false,
        inherit: false,
      });
      this.levelRoles.set(level, role);
      const privileges = terraformPrivileges({ kind: 'level', level }, this.schemas);
      addPrivilegeResources(
        this,
        { provider, database, role: role.name, owner: this.owner!, idPrefix: id },
        {
          ...privileges,
          // CONNECT stays on each credential: a level role is never a way in.
          grants: privileges.grants.map((grant) =>
            grant.objectType === 'database'
              ? { ...grant, privileges: grant.privileges.filter((p) => p !== 'CONNECT') }
              : grant,
          ),
        },
      );
    }
  }

  /**
   * PUBLIC holds nothing on the database or the covered schemas (CVE-2018-1058), so
   * `none` really reads nothing. postgresql_grant with no privileges is a revoke.
   */
  private hardenPublic(): void {
    const { provider, database } = this.terraform;
    // These ids are Terraform addresses: keep them.
    const revoke = (id: string, objectType: string, schema?: string) =>
      new PostgresqlGrant(this, id, {
        provider,
        database,
        role: 'public',
        objectType,
        schema,
        privileges: [],
      });
    revoke('PublicDatabase', 'database');
    for (const schema of this.schemas) revoke(`PublicSchema-${schema}`, 'schema', schema);
  }
}

function checkSchemas(schemas: readonly string[]): readonly string[] {
  const seen = new Set<string>();
  for (const schema of schemas) {
    const name = parseSchemaName(schema);
    if (name === CONTROL_SCHEMA) {
      throw new Error(`schema ${CONTROL_SCHEMA} holds pgcred's control store: no credential may cover it`);
    }
    if (seen.has(name)) throw new Error(`schema ${JSON.stringify(schema)} is listed twice`);
    seen.add(name);
  }
  return [...seen];
}
