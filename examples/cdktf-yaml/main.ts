import { join } from 'node:path';
import { App } from 'cdktf';
import { ConfigFileStack } from '../../src/stacks';

// The YAML user's whole program: pgcred.yaml is the source of truth.
const app = new App();
new ConfigFileStack(app, 'sunny', { file: join(__dirname, 'pgcred.yaml') });
app.synth();
