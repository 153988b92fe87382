import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, type Project } from '../harness/project';

const REPO = join(__dirname, '..', '..');

/**
 * `pgcred` as installed runs bin/pgcred.js, which loads the CLI that `npm run build`
 * bundled (scripts/bundle-cli.js): pgcred's modules, yaml and commander in one file.
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

  /** Runs bin/pgcred.js and lists the module files the process loaded. */
  function installed(...args: string[]) {
    const loaded = join(p.dir, 'loaded.json');
    const hook = join(p.dir, 'hook.cjs');
    writeFileSync(
      hook,
      `const Module = require('node:module');
const files = [];
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) { files.push(filename); return compile.apply(this, arguments); };
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(files)));
`,
    );
    const run = spawnSync(process.execPath, ['-r', hook, join(REPO, 'bin', 'pgcred.js'), ...args], {
      cwd: p.dir,
      env: { PATH: process.env.PATH, ...p.env },
      encoding: 'utf8',
    });
    const files = (JSON.parse(readFileSync(loaded, 'utf8')) as string[]).map((f) => f.slice(REPO.length + 1));
    return { ...run, files };
  }

  it('applies and finds no drift, loading pgcred, yaml and commander from one file', () => {
    expect(existsSync(join(REPO, 'dist', 'cli', 'main.bundle.js'))).toBe(true);
    const apply = installed('apply', '--yes');
    expect(apply.stderr).toMatch(/^Applied \d+ changes to sunny in one transaction\.\n$/);
    expect(apply.status).toBe(0);
    const drift = installed('drift');
    expect(drift.status).toBe(0);
    expect(drift.stdout).toContain('No changes: the database matches the declaration.');
    expect(drift.files).toContain(join('dist', 'cli', 'main.bundle.js'));
    // Of dist/, only the bundle and the schema's validator (written by build-validators.js).
    expect(drift.files.filter((f) => f.startsWith('dist/'))).toEqual([
      join('dist', 'cli', 'main.bundle.js'),
      join('dist', 'config', 'validators', 'pgcred.schema.js'),
    ]);
    expect(drift.files.filter((f) => /node_modules\/(yaml|commander)\//.test(f))).toEqual([]);
    // pg is one package, loaded from node_modules, so that the process has one pg.
    expect(drift.files).toContain(join('node_modules', 'pg', 'lib', 'index.js'));
  });
});
