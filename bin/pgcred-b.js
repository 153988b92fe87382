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

const { runCli } = require('../dist/cli/main.bundle.js');

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
