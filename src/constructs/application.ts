import { Construct } from 'constructs';
import type { AppSpec } from '../model/config';
import { parseDuration } from '../model/duration';
import { Manifest } from './manifest';
import { PgcredApp } from './provider-pgcred';
import { stackRelativePath } from './stack-path';
import { pgcredProviderOf } from './terraform-target';

const DEFAULT_RESTART_TIMEOUT = '60s';

/** Props of an `Application`. */
export interface ApplicationProps {
  /** The app's name, Heroku style: lower-case letters, digits and '-'. */
  readonly name: string;
  /**
   * A file pgcred rewrites (atomically, mode 0600) with every config var of the app;
   * relative paths are relative to the directory `cdktf synth` runs in (that of cdktf.json),
   * and synthesize relative to the stack's directory, so no machine's path is baked in.
   * @default - none: the config vars live only in pgcred's control store
   */
  readonly envFile?: string;
  /**
   * A command pgcred runs after each change of the app's config vars ("restart").
   * @default - none
   */
  readonly restart?: string;
  /**
   * How long the restart command may run, written like `60s`.
   * @default '60s'
   */
  readonly restartTimeout?: string;
}

/**
 * An app (Heroku's word): a consumer of connection URLs. Attaching a credential to
 * it sets one config var. With the postgresql provider apps are pgcred's alone and
 * synthesize no Terraform; in a stack that targets the pgcred provider each is a
 * pgcred_app.
 */
export class Application extends Construct {
  readonly appName: string;
  private readonly appSpec: AppSpec;
  private readonly restartTimeout?: string;
  private pgcredApp?: PgcredApp;

  constructor(scope: Construct, id: string, props: ApplicationProps) {
    super(scope, id);
    this.appName = props.name;
    // Terraform runs in cdktf.out/stacks/<stack>/ and the manifest lies there: paths are relative to it.
    this.appSpec = {
      name: props.name,
      envFile: props.envFile === undefined ? undefined : stackRelativePath(this, props.envFile),
      restart: props.restart,
      restartTimeoutMs: parseDuration(props.restartTimeout ?? DEFAULT_RESTART_TIMEOUT),
    };
    this.restartTimeout = props.restartTimeout;
    const manifest = Manifest.of(this);
    manifest.addApplication(this);
    this.node.addValidation({ validate: () => manifest.problemsFor(this) });
  }

  /** The app in the model's terms. */
  spec(): AppSpec {
    return this.appSpec;
  }

  /**
   * @internal The name attachments refer to: in a stack that targets the pgcred
   * provider, a reference to its pgcred_app, so Terraform makes the app before its attachments.
   */
  _terraformName(): string {
    this._synthesizeTerraform();
    return this.pgcredApp?.name ?? this.appName;
  }

  /** @internal Called by the stack's pgcred aspect, and by attachments that need the resource first. */
  _synthesizeTerraform(): void {
    if (this.pgcredApp || Manifest.of(this).terraformProvider !== 'pgcred') return;
    this.pgcredApp = new PgcredApp(this, 'App', {
      provider: pgcredProviderOf(this),
      name: this.appName,
      envFile: this.appSpec.envFile,
      restart: this.appSpec.restart,
      restartTimeout: this.restartTimeout,
    });
  }
}
