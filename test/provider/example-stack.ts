import { App, LocalBackend } from 'cdktf';
import { Permission } from '../../src/constructs';
import { BasicExampleStack } from '../../src/stacks';

/**
 * The stack of examples/cdktf-pgcred-provider with what a test varies: names of
 * its own (roles are cluster-wide), the analyst's level and billing's rotation
 * trigger, and the state beside it. One function serves `cdktf deploy` (through a
 * main.ts that calls it) and the in-process synths of later steps, so both write
 * the same stack.
 */
export interface ExampleStackProps {
  readonly databaseName: string;
  readonly credentialPrefix: string;
  readonly runDirectory: string;
  /** The local backend's state file: absolute, so every synth points at the same one. */
  readonly statePath: string;
  readonly analystPermission?: string;
  readonly billingRotationTrigger?: string;
  /** @default - where `cdktf` says (CDKTF_OUTDIR) */
  readonly outdir?: string;
}

export const STACK = 'sunny';

export function synthesizeExample(props: ExampleStackProps): void {
  const app = new App(props.outdir ? { outdir: props.outdir } : {});
  const stack = new BasicExampleStack(app, STACK, {
    terraformProvider: 'pgcred',
    databaseName: props.databaseName,
    credentialPrefix: props.credentialPrefix,
    runDirectory: props.runDirectory,
    analystPermission: props.analystPermission ? Permission.of(props.analystPermission) : undefined,
    billingRotationTrigger: props.billingRotationTrigger,
  });
  new LocalBackend(stack, { path: props.statePath });
  app.synth();
}
