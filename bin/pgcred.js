#!/usr/bin/env node

// When pg loads, it asks whether it runs in a Cloudflare Worker: with no `navigator`
// global (Node 20 has none) it constructs a fetch Response, which loads Node's fetch
// implementation, undici: some 15 ms of every command's start. A navigator that says
// Node.js answers that probe; it is gone again once pg is loaded.
if (globalThis.navigator === undefined) {
  globalThis.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    require('pg');
  } finally {
    delete globalThis.navigator;
  }
}

// The CLI as one file with its code cache (scripts/bundle-cli.js), else as tsc wrote it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'cli', 'main.bundle.js');
let cli;
if (existsSync(bundle)) {
  const { cacheOf, loadBundle } = require('./load-cli.js');
  cli = loadBundle(bundle, module, cacheOf(bundle)).exports;
} else {
  cli = require('../dist/cli/main.js');
}

cli.runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
