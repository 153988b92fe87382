'use strict';
/**
 * Loaded with `node --require` into a pgcred process the benchmark runs. It counts
 * what the process asks of PostgreSQL (each Client#query is one round trip; a
 * simple-protocol text may hold several statements) and, at exit, writes the counts
 * and the process's peak resident memory to the file PGCRED_BENCH_PROBE names.
 * With PGCRED_BENCH_TRACE=1 it also prints the queries that took longest, for
 * profiling. It changes nothing the process does: it loads no pg of its own, and
 * counts on pg's Client once the process has loaded pg itself (loading it first would
 * skip what pgcred does before it loads pg, and add its cost).
 */
const { writeFileSync } = require('node:fs');
const Module = require('node:module');
const { performance } = require('node:perf_hooks');
const { countStatements } = require('./statements.cjs');

const out = process.env.PGCRED_BENCH_PROBE;
const trace = process.env.PGCRED_BENCH_TRACE === '1' ? new Map() : undefined;
const counts = { roundTrips: 0, statements: 0 };
const load = Module._load;
Module._load = function loadCounted(request, ...rest) {
  const exported = load.call(this, request, ...rest);
  if (request === 'pg') {
    Module._load = load;
    count(exported.Client);
  }
  return exported;
};

function count(Client) {
  const query = Client.prototype.query;
  Client.prototype.query = function probedQuery(config, values, callback) {
    counts.roundTrips++;
    const text = typeof config === 'string' ? config : config?.text;
    const parameters = Array.isArray(values) || Array.isArray(config?.values);
    counts.statements += typeof text === 'string' && !parameters ? Math.max(1, countStatements(text)) : 1;
    const result = query.call(this, config, values, callback);
    if (trace && result && typeof result.then === 'function') {
      const start = performance.now();
      const key = String(text).replace(/\s+/g, ' ').slice(0, 100);
      const done = () => {
        const t = trace.get(key) ?? { n: 0, ms: 0 };
        trace.set(key, { n: t.n + 1, ms: t.ms + performance.now() - start });
      };
      result.then(done, done);
    }
    return result;
  };
}

process.on('exit', () => {
  if (trace) {
    const top = [...trace].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
    for (const [key, t] of top)
      process.stderr.write(`${t.ms.toFixed(1).padStart(9)} ms ${String(t.n).padStart(5)}x ${key}\n`);
    process.stderr.write(`process ${performance.now().toFixed(0)} ms\n`);
  }
  if (!out) return;
  writeFileSync(out, JSON.stringify({ ...counts, maxRssKb: process.resourceUsage().maxRSS }));
});
