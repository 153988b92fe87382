import { Construct } from 'constructs';
import type { AttachmentSpec } from '../model/config';
import type { Application } from './application';
import type { ICredential } from './credential';
import { Manifest } from './manifest';

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
 * Attachments are pgcred's alone (`pgcred apply --manifest` makes them), so they
 * synthesize no Terraform.
 */
export class Attachment extends Construct {
  readonly credential: ICredential;
  readonly app: Application;
  readonly as?: string;

  constructor(scope: Construct, id: string, props: AttachmentProps) {
    super(scope, id);
    this.credential = props.credential;
    this.app = props.app;
    this.as = props.as;
    const manifest = Manifest.of(this);
    manifest.addAttachment(this);
    this.node.addValidation({ validate: () => manifest.problemsFor(this) });
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
