import { TerraformDataSource, type TerraformMetaArguments } from 'cdktf';
import type { Construct } from 'constructs';
import { generatorMetadata, jsonOnly } from './provider';

export interface DataPgcredCredentialUrlConfig extends TerraformMetaArguments {
  readonly database: string;
  /** @default 'default' */
  readonly name?: string;
}

/** `data "pgcred_credential_url"`: a credential's connection URL, as `pgcred credentials:url` prints it. */
export class DataPgcredCredentialUrl extends TerraformDataSource {
  static readonly tfResourceType = 'pgcred_credential_url';

  constructor(
    scope: Construct,
    id: string,
    private readonly config: DataPgcredCredentialUrlConfig,
  ) {
    super(scope, id, {
      terraformResourceType: DataPgcredCredentialUrl.tfResourceType,
      terraformGeneratorMetadata: generatorMetadata(),
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      forEach: config.forEach,
    });
  }

  /** `<database>/<name>` */
  get id(): string {
    return this.getStringAttribute('id');
  }

  /** The username apps should use now. */
  get username(): string {
    return this.getStringAttribute('username');
  }

  /** postgres://user:password@host:port/database (sensitive). */
  get url(): string {
    return this.getStringAttribute('url');
  }

  /** libpq's key=value connection string (sensitive). */
  get connectionInfo(): string {
    return this.getStringAttribute('connection_info');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    const { database, name } = this.config;
    return { database, name };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    throw new Error(jsonOnly('pgcred_credential_url'));
  }
}
