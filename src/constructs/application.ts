import { isAbsolute, resolve } from 'node:path';
import { Construct } from 'constructs';
import type { AppSpec } from '../model/config';
import { parseDuration } from '../model/duration';
import { Manifest } from './manifest';

const DEFAULT_RESTART_TIMEOUT = '60s';

/** Props of an `Application`. */
export interface ApplicationProps {
  /** The app's name, Heroku style: lower-case letters, digits and '-'. */
  readonly name: string;
  /**
   * A file pgcred rewrites (atomically, mode 0600) with every config var of the app;
   * relative paths are relative to the directory `cdktf synth` runs in.
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
 * it sets one config var; apps are pgcred's alone, so they synthesize no Terraform.
 */
export class Application extends Construct {
  readonly appName: string;
  private readonly appSpec: AppSpec;

  constructor(scope: Construct, id: string, props: ApplicationProps) {
    super(scope, id);
    this.appName = props.name;
    // The manifest is read from cdktf.out/stacks/<stack>/, so relative paths are fixed here.
    this.appSpec = {
      name: props.name,
      envFile: props.envFile && !isAbsolute(props.envFile) ? resolve(props.envFile) : props.envFile,
      restart: props.restart,
      restartTimeoutMs: parseDuration(props.restartTimeout ?? DEFAULT_RESTART_TIMEOUT),
    };
    const manifest = Manifest.of(this);
    manifest.addApplication(this);
    this.node.addValidation({ validate: () => manifest.problemsFor(this) });
  }

  /** The app in the model's terms. */
  spec(): AppSpec {
    return this.appSpec;
  }
}
