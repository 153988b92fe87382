import { Construct } from 'constructs';
import type { AttachmentSpec } from '../model/config';
import type { Application } from './application';
import { Credential, type ICredential } from './credential';
import { Manifest } from './manifest';
import { PgcredAttachment } from './provider-pgcred';
import { pgcredProviderOf } from './terraform-target';

/** Props of an `Attachment`. */
export interface AttachmentProps {
  /** The credential whose connection URL the app receives (a database's `defaultCredential` too). */
  readonly credential: ICredential;
  /** The app that receives it. */
  readonly app: Application;
  /**
   * The attachment name; the config var is `<as>_URL`.
   * @default - DATABASE when the app has none, else HEROKU_POSTGRESQL_<COLOR>, kept once assigned
   */
  readonly as?: string;
}

/**
 * Attaches a credential to an app: one config var holding its connection URL.
 * With the postgresql provider, attachments are pgcred's alone (`pgcred apply
 * --manifest` makes them) and synthesize no Terraform. When the credential's
 * database targets the pgcred provider, each is a pgcred_attachment, and the
 * manifest leaves it out, so `pgcred apply` does not make it a second time.
 */
export class Attachment extends Construct {
  readonly credential: ICredential;
  readonly app: Application;
  readonly as?: string;
  private pgcredAttachment?: PgcredAttachment;

  constructor(scope: Construct, id: string, props: AttachmentProps) {
    super(scope, id);
    this.credential = props.credential;
    this.app = props.app;
    this.as = props.as;
    const manifest = Manifest.of(this);
    manifest.addAttachment(this);
    this.node.addValidation({ validate: () => manifest.problemsFor(this) });
  }

  /** True when Terraform (the pgcred provider) makes this attachment. */
  get ownedByTerraform(): boolean {
    return this.credential.database.targetsPgcred;
  }

  /** The pgcred_attachment, once synthesized (pgcred provider only). */
  get terraformResource(): PgcredAttachment | undefined {
    return this.pgcredAttachment;
  }

  /**
   * @internal Called by the stack's pgcred aspect. Attachments of one app are
   * applied one after another, in the order `pgcred apply` hands out names (those
   * with `as` first, then the default credential, then by credential), so a
   * deploy names them as the reconciler would: DATABASE, then HEROKU_POSTGRESQL_<COLOR>.
   */
  _synthesizeTerraform(): void {
    if (this.pgcredAttachment || !this.ownedByTerraform) return;
    const siblings = Manifest.of(this).attachmentOrder(this.app);
    const previous = siblings[siblings.indexOf(this) - 1];
    previous?._synthesizeTerraform();
    const credential = this.credential;
    this.pgcredAttachment = new PgcredAttachment(this, 'Attachment', {
      provider: pgcredProviderOf(this),
      database: credential.database.name,
      credential: credential instanceof Credential ? credential._terraformName() : credential.credentialName,
      app: this.app._terraformName(),
      as: this.as,
      dependsOn: previous?.pgcredAttachment ? [previous.pgcredAttachment] : undefined,
    });
  }

  /** The attachment in the model's terms. */
  spec(): AttachmentSpec {
    return {
      database: this.credential.database.name,
      credential: this.credential.credentialName,
      app: this.app.appName,
      as: this.as,
    };
  }
}
