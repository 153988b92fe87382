/**
 * Loads dist/cli/main.bundle.js (scripts/bundle-cli.js) as Node would require it,
 * but compiled with the V8 code cache the build wrote beside it (main.bundle.js.cache):
 * with it V8 neither parses nor compiles the functions a command runs, which is
 * some 10 to 25 ms of every command's start. Node 20 has no module compile cache of
 * its own (module.enableCompileCache is Node 22). A cache V8 rejects (another Node,
 * another V8 flag) costs nothing but that saving: the source is compiled as usual.
 * Commands only read the cache; `npm run build` writes it (scripts/code-cache.js).
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

/**
 * When pg loads, it asks whether it runs in a Cloudflare Worker: with no `navigator`
 * global (Node 20 has none) it constructs a fetch Response, which loads Node's fetch
 * implementation, undici: some 15 ms of every command's start. A navigator that says
 * Node.js answers that probe; it is gone again once pg is loaded.
 */
function loadPg() {
  if (globalThis.navigator !== undefined) return;
  globalThis.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    require('pg');
  } finally {
    delete globalThis.navigator;
  }
}

/** The bundle's module, and its compiled script (whose cache code-cache.js writes). */
function loadBundle(file, parent, cachedData) {
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const bundle = new Module(file, parent);
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(dirname(file));
  const run = script.runInThisContext();
  run.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, dirname(file));
  bundle.loaded = true;
  return { exports: bundle.exports, script };
}

/** The cache beside the bundle, if the build wrote one. */
function cacheOf(file) {
  try {
    return readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
}

module.exports = { cacheOf, loadBundle, loadPg };
