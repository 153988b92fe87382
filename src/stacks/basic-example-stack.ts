import { join } from 'node:path';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import {
  AdminConnection,
  Application,
  Attachment,
  type Credential,
  Database,
  DatabasePlan,
  Permission,
  Rotation,
  type TerraformProviderName,
} from '../constructs';
import type { PublicPolicy } from '../model/config';

/** Props of a `BasicExampleStack`. */
export interface BasicExampleStackProps {
  /**
   * The database's Heroku-style name.
   * @default 'postgresql-sunny-1234'
   */
  readonly databaseName?: string;
  /**
   * Put before every credential's name, so that copies of the stack (staging, review
   * apps) can share one PostgreSQL cluster, whose roles are cluster-wide.
   * @default - none
   */
  readonly credentialPrefix?: string;
  /**
   * The schemas the levels cover.
   * @default ['public']
   */
  readonly schemas?: readonly string[];
  /**
   * PUBLIC's privileges (see Database): `harden` on a database whose every login role
   * is pgcred's, so that `none` reads nothing.
   * @default 'auto'
   */
  readonly public?: PublicPolicy;
  /**
   * How Terraform and pgcred log in as the admin.
   * @default AdminConnection.fromVariables()
   */
  readonly admin?: AdminConnection;
  /**
   * Where the apps' env files go.
   * @default 'run', relative to the directory synth runs in
   */
  readonly runDirectory?: string;
  /**
   * The Terraform provider the credentials synthesize to: with `pgcred`, `cdktf
   * deploy` also sets passwords and makes the apps and attachments.
   * @default 'postgresql'
   */
  readonly terraformProvider?: TerraformProviderName;
  /**
   * The analyst's level.
   * @default Permission.readOnly()
   */
  readonly analystPermission?: Permission;
  /**
   * With the pgcred provider: change it (a date, say) and deploy to rotate billing's password.
   * @default - none
   */
  readonly billingRotationTrigger?: string;
}

/**
 * examples/basic/pgcred.yaml written in TypeScript: one database, a read-only
 * analyst, a credential that reads one table, a read-write billing credential that
 * rotates every 90 days, and two apps.
 */
export class BasicExampleStack extends TerraformStack {
  readonly database: Database;
  readonly analyst: Credential;
  readonly limitedUser: Credential;
  readonly billing: Credential;

  constructor(scope: Construct, id: string, props: BasicExampleStackProps = {}) {
    super(scope, id);
    const prefix = props.credentialPrefix ?? '';
    const run = props.runDirectory ?? 'run';

    this.database = new Database(this, 'Sunny', {
      name: props.databaseName ?? 'postgresql-sunny-1234',
      admin: props.admin ?? AdminConnection.fromVariables(),
      plan: DatabasePlan.STANDARD_0,
      color: 'CYAN',
      schemas: props.schemas,
      terraformProvider: props.terraformProvider,
      ...(props.public ? { public: props.public } : {}),
    });
    this.analyst = this.database.addCredential('Analyst', {
      name: `${prefix}analyst`,
      permission: props.analystPermission ?? Permission.readOnly(),
    });
    this.limitedUser = this.database.addCredential('LimitedUser', { name: `${prefix}limited_user` });
    this.limitedUser.grantSelect('public.users');
    this.billing = this.database.addCredential('Billing', {
      name: `${prefix}billing`,
      permission: Permission.readWrite(),
      rotation: Rotation.every('90d', { grace: '30m' }),
      rotationTrigger: props.billingRotationTrigger,
    });

    const exampleApp = new Application(this, 'ExampleApp', {
      name: 'example-app',
      envFile: join(run, 'example-app.env'),
    });
    const billingApp = new Application(this, 'BillingApp', {
      name: 'billing-app',
      envFile: join(run, 'billing-app.env'),
    });
    new Attachment(this, 'ExampleAppDefault', {
      credential: this.database.defaultCredential,
      app: exampleApp,
    });
    new Attachment(this, 'ExampleAppAnalyst', { credential: this.analyst, app: exampleApp });
    new Attachment(this, 'BillingAppBilling', { credential: this.billing, app: billingApp });
  }
}
