import { readFileSync } from 'node:fs';
import { type TerraformMetaArguments, TerraformProvider, TerraformResource } from 'cdktf';
import type { Construct } from 'constructs';
import { projectFile } from '../../project';

/**
 * The binding of pgcred's own Terraform provider (src/provider), written by hand in
 * the shape `cdktf get` generates, since `cdktf get` needs a registry. Its schema is
 * src/provider/schema.ts; test/constructs/provider-bindings.test.ts holds every
 * attribute here to it (name, type, required, computed, sensitive).
 * It synthesizes JSON (cdktf's default output), not HCL.
 */
export const PGCRED_PROVIDER_SOURCE = 'pgcred/pgcred';

let version: string | undefined;
/** The provider version `npm run provider:install` lays into the mirror: this package's. */
export function pgcredProviderVersion(): string {
  version ??= (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}

export function generatorMetadata() {
  return {
    providerName: 'pgcred',
    providerVersion: pgcredProviderVersion(),
    providerVersionConstraint: pgcredProviderVersion(),
  };
}

/** A resource of the pgcred provider: the meta-arguments every resource takes, once. */
export abstract class PgcredResource<C extends TerraformMetaArguments> extends TerraformResource {
  protected constructor(
    scope: Construct,
    id: string,
    type: string,
    protected readonly config: C,
  ) {
    super(scope, id, {
      terraformResourceType: type,
      terraformGeneratorMetadata: generatorMetadata(),
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      forEach: config.forEach,
    });
  }
}

/** A `database` block of the provider. */
export interface PgcredProviderDatabase {
  /** The name resources use for it, e.g. postgresql-sunny-1234. */
  readonly name: string;
  /** Admin connection URL (sensitive): a Terraform expression, never a literal. */
  readonly url: string;
  /** @default 'standard-0' */
  readonly plan?: string;
  /** @default - derived from the name */
  readonly color?: string;
  /** The default credential's username. @default - the database owner */
  readonly owner?: string;
  /** @default - the plan's limit */
  readonly credentialLimit?: number;
  /** The username scheme: credential analyst logs in as `<usernamePrefix>analyst`. @default - none */
  readonly usernamePrefix?: string;
}

export interface PgcredProviderConfig {
  /** @default - none yet: add them with addDatabase */
  readonly databases?: readonly PgcredProviderDatabase[];
  /** The control store's URL (sensitive). @default - PGCRED_CONTROL_URL, else the first database's url */
  readonly controlUrl?: string;
  /** The master key (sensitive). @default - PGCRED_MASTER_KEY, else keyFile */
  readonly masterKey?: string;
  /** @default - PGCRED_KEY_FILE, else .pgcred/master.key in Terraform's working directory */
  readonly keyFile?: string;
  readonly alias?: string;
}

/** `provider "pgcred" { ... }` */
export class PgcredProvider extends TerraformProvider {
  /** The control store's URL (sensitive). */
  controlUrl?: string;
  /** The master key (sensitive). */
  masterKey?: string;
  keyFile?: string;
  private readonly databaseBlocks: PgcredProviderDatabase[];

  constructor(scope: Construct, id: string, config: PgcredProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'pgcred',
      terraformGeneratorMetadata: generatorMetadata(),
      terraformProviderSource: PGCRED_PROVIDER_SOURCE,
    });
    this.controlUrl = config.controlUrl;
    this.masterKey = config.masterKey;
    this.keyFile = config.keyFile;
    this.databaseBlocks = [...(config.databases ?? [])];
    if (config.alias) this.alias = config.alias;
  }

  /** Adds a `database` block. */
  addDatabase(database: PgcredProviderDatabase): void {
    this.databaseBlocks.push(database);
  }

  get databases(): readonly PgcredProviderDatabase[] {
    return this.databaseBlocks;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      control_url: this.controlUrl,
      master_key: this.masterKey,
      key_file: this.keyFile,
      database: this.databaseBlocks.map((db) => ({
        name: db.name,
        url: db.url,
        plan: db.plan,
        color: db.color,
        owner: db.owner,
        credential_limit: db.credentialLimit,
        username_prefix: db.usernamePrefix,
      })),
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    throw new Error(jsonOnly('provider'));
  }
}

export function jsonOnly(what: string): string {
  return `pgcred's hand-written ${what} binding synthesizes JSON only: run cdktf synth without --hcl`;
}
