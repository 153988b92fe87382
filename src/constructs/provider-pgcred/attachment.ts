import type { TerraformMetaArguments } from 'cdktf';
import type { Construct } from 'constructs';
import { jsonOnly, PgcredResource } from './provider';

export interface PgcredAttachmentConfig extends TerraformMetaArguments {
  readonly database: string;
  /** A credential's name (a reference to its pgcred_credential), or `default`. */
  readonly credential: string;
  /** An app's name (a reference to its pgcred_app). */
  readonly app: string;
  /** @default - DATABASE when the app has none, else HEROKU_POSTGRESQL_<COLOR> */
  readonly as?: string;
}

/** `resource "pgcred_attachment"` */
export class PgcredAttachment extends PgcredResource<PgcredAttachmentConfig> {
  static readonly tfResourceType = 'pgcred_attachment';

  constructor(scope: Construct, id: string, config: PgcredAttachmentConfig) {
    super(scope, id, PgcredAttachment.tfResourceType, config);
  }

  /** `<app>/<name>` */
  get id(): string {
    return this.getStringAttribute('id');
  }

  /** The attachment name: DATABASE, HEROKU_POSTGRESQL_<COLOR>, or `as`. */
  get name(): string {
    return this.getStringAttribute('name');
  }

  /** `<name>_URL` */
  get configVar(): string {
    return this.getStringAttribute('config_var');
  }

  /** The connection URL (sensitive). */
  get url(): string {
    return this.getStringAttribute('url');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    const { database, credential, app, as } = this.config;
    return { database, credential, app, as };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    throw new Error(jsonOnly('pgcred_attachment'));
  }
}
