// First, before anything of pgcred's: one copy of the core classes, cdktn's (see README).
import '../../src/cdktn';
import { stackRelativePath } from '../../src/constructs';
import { BasicExampleStack } from '../../src/stacks';

// cdktn's API is cdktf's, class for class. The types are borrowed from cdktf so that this
// file type-checks in the root project, where cdktn is not installed (its peer range for
// constructs excludes the root's); an infra repo writes `import { App } from 'cdktn'`.
const { App, LocalBackend }: typeof import('cdktf') = require('cdktn');

// The stack of examples/cdktf-typescript (src/stacks/basic-example-stack.ts), synthesized
// by CDK Terrain. An infra repo imports 'pgcred/dist/cdktn' first, then 'pgcred'.
const app = new App();
const stack = new BasicExampleStack(app, 'sunny');
// As examples/cdktf-typescript does: the state file beside cdktf.json, no absolute path.
new LocalBackend(stack, { path: stackRelativePath(stack, 'terraform.sunny.tfstate') });
app.synth();
