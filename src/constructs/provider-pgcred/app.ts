import type { IResolvable, TerraformMetaArguments } from 'cdktf';
import type { Construct } from 'constructs';
import { jsonOnly, PgcredResource } from './provider';

export interface PgcredAppConfig extends TerraformMetaArguments {
  readonly name: string;
  /** Absolute, or relative to Terraform's working directory. */
  readonly envFile?: string;
  readonly restart?: string;
  /** @default '60s' */
  readonly restartTimeout?: string;
}

/** `resource "pgcred_app"` */
export class PgcredApp extends PgcredResource<PgcredAppConfig> {
  static readonly tfResourceType = 'pgcred_app';

  constructor(scope: Construct, id: string, config: PgcredAppConfig) {
    super(scope, id, PgcredApp.tfResourceType, config);
  }

  /** The name, also the import ID. */
  get id(): string {
    return this.getStringAttribute('id');
  }

  /** The app's name, as a reference: attachments that use it are applied after it. */
  get name(): string {
    return this.getStringAttribute('name');
  }

  /** Bumped by every change of its config vars. */
  get release(): number {
    return this.getNumberAttribute('release');
  }

  /** The names of its config vars (DATABASE_URL, ...). */
  get configVars(): string[] {
    return this.getListAttribute('config_vars');
  }

  /** True when the last restart failed or the env file no longer holds the config vars. */
  get restartPending(): IResolvable {
    return this.getBooleanAttribute('restart_pending');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    const { name, envFile, restart, restartTimeout } = this.config;
    return { name, env_file: envFile, restart, restart_timeout: restartTimeout };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    throw new Error(jsonOnly('pgcred_app'));
  }
}
