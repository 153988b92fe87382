import type { TerraformMetaArguments } from 'cdktf';
import type { Construct } from 'constructs';
import { jsonOnly, PgcredResource } from './provider';

/** A `grant` block: custom grants instead of a permission level. */
export interface PgcredCredentialGrant {
  readonly privileges: readonly string[];
  /** database, schema, table, sequence, all-tables, all-sequences, default-tables, default-sequences, default-schemas */
  readonly on: string;
  readonly objects?: readonly string[];
}

/** The `rotation` block. */
export interface PgcredCredentialRotation {
  /** e.g. 90d */
  readonly every?: string;
  /** @default '30m' */
  readonly grace?: string;
  /** How long an old username must have had no connections, twice per rotation. @default '5s' */
  readonly settle?: string;
}

export interface PgcredCredentialConfig extends TerraformMetaArguments {
  readonly database: string;
  readonly name: string;
  /** none, read-only or read-write; @default - none, unless grants are given */
  readonly permission?: string;
  readonly grant?: readonly PgcredCredentialGrant[];
  readonly rotation?: PgcredCredentialRotation;
  /** Any change of this value rotates the password. */
  readonly rotationTrigger?: string;
}

/** `resource "pgcred_credential"` */
export class PgcredCredential extends PgcredResource<PgcredCredentialConfig> {
  static readonly tfResourceType = 'pgcred_credential';

  constructor(scope: Construct, id: string, config: PgcredCredentialConfig) {
    super(scope, id, PgcredCredential.tfResourceType, config);
  }

  /** `<database>/<name>` */
  get id(): string {
    return this.getStringAttribute('id');
  }

  /** The credential's name, as a reference: attachments that use it are applied after it. */
  get name(): string {
    return this.getStringAttribute('name');
  }

  get username(): string {
    return this.getStringAttribute('username');
  }

  /** active, or rotating. */
  get state(): string {
    return this.getStringAttribute('state');
  }

  /** What the last refresh found changed outside Terraform; null when in sync. */
  get drift(): string[] {
    return this.getListAttribute('drift');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    const { database, name, permission, grant, rotation, rotationTrigger } = this.config;
    return {
      database,
      name,
      permission,
      grant: grant?.map((g) => ({
        privileges: [...g.privileges],
        on: g.on,
        objects: g.objects && [...g.objects],
      })),
      rotation: rotation && { every: rotation.every, grace: rotation.grace, settle: rotation.settle },
      rotation_trigger: rotationTrigger,
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    throw new Error(jsonOnly('pgcred_credential'));
  }
}
