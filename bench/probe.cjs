'use strict';
/**
 * Loaded with `node --require` into a pgcred process the benchmark runs. It counts
 * what the process asks of PostgreSQL (each Client#query is one round trip; a
 * simple-protocol text may hold several statements) and, at exit, writes the counts
 * and the process's peak resident memory to the file PGCRED_BENCH_PROBE names.
 * It changes nothing the process does.
 */
const { writeFileSync } = require('node:fs');
const { Client } = require('pg');
const { countStatements } = require('./statements.cjs');

const out = process.env.PGCRED_BENCH_PROBE;
const counts = { roundTrips: 0, statements: 0 };
const query = Client.prototype.query;
Client.prototype.query = function probedQuery(config, values, callback) {
  counts.roundTrips++;
  const text = typeof config === 'string' ? config : config?.text;
  const parameters = Array.isArray(values) || Array.isArray(config?.values);
  counts.statements += typeof text === 'string' && !parameters ? Math.max(1, countStatements(text)) : 1;
  return query.call(this, config, values, callback);
};
process.on('exit', () => {
  if (!out) return;
  writeFileSync(out, JSON.stringify({ ...counts, maxRssKb: process.resourceUsage().maxRSS }));
});
