import { App, LocalBackend } from 'cdktf';
import { BasicExampleStack, stackRelativePath } from 'pgcred';

// The stack's code is in pgcred's src/stacks/basic-example-stack.ts; write your own
// with the same constructs (Database, Credential, Attachment, Application).
const app = new App();
const stack = new BasicExampleStack(app, 'sunny');
// cdktf's default backend bakes this checkout's absolute path into cdk.tf.json; beside
// cdktf.json instead, written relative to cdktf.out/stacks/sunny where Terraform runs.
new LocalBackend(stack, { path: stackRelativePath(stack, 'terraform.sunny.tfstate') });
app.synth();
