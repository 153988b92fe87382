import { App } from 'cdktf';
import { BasicExampleStack } from '../../src/stacks';

// The stack of examples/cdktf-typescript, deployed through pgcred's own Terraform
// provider: `cdktf deploy` creates the credentials, sets their passwords, makes the
// apps and attaches the credentials (env files in ./run). An infra repo would
// import from 'pgcred'; the stack's code is in src/stacks/basic-example-stack.ts.
const app = new App();
new BasicExampleStack(app, 'sunny', { terraformProvider: 'pgcred' });
app.synth();
