#!/usr/bin/env node

const { runCli } = require('../dist/cli/main.js');

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
