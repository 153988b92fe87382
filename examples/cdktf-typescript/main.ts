import { App } from 'cdktf';
import { BasicExampleStack } from '../../src/stacks';

// An infra repo would import from 'pgcred/constructs'; the stack's code is in
// src/stacks/basic-example-stack.ts.
const app = new App();
new BasicExampleStack(app, 'sunny');
app.synth();
