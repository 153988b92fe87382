import { App, LocalBackend } from 'cdktf';
import { BasicExampleStack, stackRelativePath } from 'pgcred';

// The stack of examples/cdktf-typescript, deployed through pgcred's own Terraform
// provider: `cdktf deploy` creates the credentials, sets their passwords, makes the
// apps and attaches the credentials (env files in ./run). The stack's code is in
// pgcred's src/stacks/basic-example-stack.ts; write your own with the same constructs.
const app = new App();
const stack = new BasicExampleStack(app, 'sunny', { terraformProvider: 'pgcred' });
// Beside cdktf.json, written relative to cdktf.out/stacks/sunny (where Terraform runs),
// so the synthesized JSON is the same in every checkout.
new LocalBackend(stack, { path: stackRelativePath(stack, 'terraform.sunny.tfstate') });
app.synth();
