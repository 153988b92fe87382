#!/usr/bin/env node

const { cacheOf, loadBundle, loadPg } = require('./load-cli.js');

loadPg();

// The CLI as one file with its code cache (scripts/bundle-cli.js), else as tsc wrote it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'cli', 'main.bundle.js');
let cli;
if (existsSync(bundle)) {
  cli = loadBundle(bundle, module, cacheOf(bundle)).exports;
} else {
  cli = require('../dist/cli/main.js');
}

cli.runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
