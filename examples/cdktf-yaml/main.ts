import { join } from 'node:path';
import { App, LocalBackend } from 'cdktf';
import { ConfigFileStack, stackRelativePath } from 'pgcred';

// The YAML user's whole program: pgcred.yaml is the source of truth.
const app = new App();
const stack = new ConfigFileStack(app, 'sunny', { file: join(__dirname, 'pgcred.yaml') });
// cdktf's default backend bakes this checkout's absolute path into cdk.tf.json; beside
// cdktf.json instead, written relative to cdktf.out/stacks/sunny where Terraform runs.
new LocalBackend(stack, { path: stackRelativePath(stack, 'terraform.sunny.tfstate') });
app.synth();
