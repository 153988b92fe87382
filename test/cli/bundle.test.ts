import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, type Project } from '../harness/project';

const REPO = join(__dirname, '..', '..');

/**
 * `pgcred` as installed runs bin/pgcred.js, which loads the CLI that `npm run build`
 * bundled (scripts/bundle-cli.js): pgcred's modules, yaml, js-yaml and commander in one file,
 * compiled with the V8 code cache the build wrote beside it (scripts/code-cache.js).
 */
describe('the installed CLI', () => {
  let p: Project;
  beforeAll(async () => {
    p = await createProject(
      'bundle',
      ({ url, name }) => `version: 1
databases:
  - name: sunny
    url: ${url}
    credentials:
      - { name: ${name('analyst')}, permission: read-only }
`,
    );
  }, 60_000);
  afterAll(() => p.cleanup());

  /**
   * Runs bin/pgcred.js and lists the module files the process compiled, whether as
   * Node requires them or as bin/load-cli.js compiles the bundle, and whether V8 took
   * the bundle's code cache.
   */
  function installed(args: string[], nodeOptions: string[] = []) {
    const loaded = join(p.dir, 'loaded.json');
    const hook = join(p.dir, 'hook.cjs');
    writeFileSync(
      hook,
      `const Module = require('node:module');
const files = [];
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) { files.push(filename); return compile.apply(this, arguments); };
const vm = require('node:vm');
const Script = vm.Script;
let cache = 'none';
vm.Script = function (code, options) {
  const script = new Script(code, options);
  files.push(options.filename);
  if (options.cachedData) cache = script.cachedDataRejected ? 'rejected' : 'taken';
  return script;
};
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify({ files, cache })));
`,
    );
    const run = spawnSync(
      process.execPath,
      [...nodeOptions, '-r', hook, join(REPO, 'bin', 'pgcred.js'), ...args],
      {
        cwd: p.dir,
        env: { PATH: process.env.PATH, ...p.env },
        encoding: 'utf8',
      },
    );
    const { files, cache } = JSON.parse(readFileSync(loaded, 'utf8')) as { files: string[]; cache: string };
    return { ...run, files: files.map((f) => f.slice(REPO.length + 1)), cache };
  }

  it('applies and finds no drift, loading pgcred, yaml, js-yaml and commander from one file', () => {
    expect(existsSync(join(REPO, 'dist', 'cli', 'main.bundle.js'))).toBe(true);
    const apply = installed(['apply', '--yes']);
    expect(apply.stderr).toMatch(/^Applied \d+ changes to sunny in one transaction\.\n$/);
    expect(apply.status).toBe(0);
    const drift = installed(['drift']);
    expect(drift.status).toBe(0);
    expect(drift.stdout).toContain('No changes: the database matches the declaration.');
    expect(drift.files).toContain(join('dist', 'cli', 'main.bundle.js'));
    expect(drift.cache).toBe('taken');
    // Of dist/, only the bundle and the schema's validator (written by build-validators.js).
    expect(drift.files.filter((f) => f.startsWith('dist/'))).toEqual([
      join('dist', 'cli', 'main.bundle.js'),
      join('dist', 'config', 'validators', 'pgcred.schema.js'),
    ]);
    expect(drift.files.filter((f) => /node_modules\/(yaml|js-yaml|commander)\//.test(f))).toEqual([]);
    // pg is one package, loaded from node_modules, so that the process has one pg.
    expect(drift.files).toContain(join('node_modules', 'pg', 'lib', 'index.js'));
  });

  it('runs as well when V8 rejects the code cache (here: another V8 flag than the build had)', () => {
    const drift = installed(['drift'], ['--no-opt']);
    expect(drift.cache).toBe('rejected');
    expect(drift.stderr).toBe('');
    expect(drift.stdout).toContain('No changes: the database matches the declaration.');
    expect(drift.status).toBe(0);
  });

  it('ends quietly, with its own exit code, when the reader of its output goes away', () => {
    // `true` reads nothing and exits: every write of pgcred's meets a closed pipe.
    for (const args of ['--help', 'drift', 'credentials']) {
      const run = spawnSync(
        'bash',
        [
          '--noprofile',
          '--norc',
          '-c',
          `"${process.execPath}" "${join(REPO, 'bin', 'pgcred.js')}" ${args} | true; echo "exit \${PIPESTATUS[0]}" >&2`,
        ],
        { cwd: p.dir, env: { PATH: process.env.PATH, ...p.env, BASH_ENV: '' }, encoding: 'utf8' },
      );
      expect({ args, stderr: run.stderr }).toEqual({ args, stderr: 'exit 0\n' });
    }
  });
});
