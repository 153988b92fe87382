#!/usr/bin/env node
/**
 * Writes each schema's validator as plain JavaScript beside the built config module,
 * so that the CLI neither loads ajv nor compiles a schema on every command. Run by
 * `npm run build` after tsc; tests compile from schemas/ instead, and a test checks
 * that both give the same answers.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const dist = join(__dirname, '..', 'dist', 'config');
const { standalonePath, standaloneValidator } = require(join(dist, 'schema.js'));

for (const file of ['pgcred.schema.json', 'manifest.schema.json']) {
  const target = standalonePath(dist, file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, standaloneValidator(file));
}
