import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './terraform-cli';

/**
 * pgcred as `npm install` would lay it out in a user's project: the files `npm pack`
 * ships (package.json `files`), with dist/ built from the sources under test, in
 * the project's node_modules/pgcred. There is no registry offline, so pgcred's
 * dependencies and the example's own (cdktf, cdktf-cli, tsx) are linked from this
 * repository's node_modules, one link per package, as a flat install would place them.
 */
let built: string | undefined;

/** Builds the package once per test file: ~10 s. */
export function buildPackage(): string {
  if (built) return built;
  const dir = join(mkdtempSync(join(tmpdir(), 'pgcred-package-')), 'pgcred');
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
  ) as { files: { path: string }[] }[];
  for (const { path } of packed[0]!.files) {
    if (path.startsWith('dist/')) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    copyFileSync(join(ROOT, path), join(dir, path));
  }
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [
    tsc,
    '-p',
    join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    join(dir, 'dist'),
  ]);
  // `npm run build`'s other steps, run against this build (they write beside ../dist).
  mkdirSync(join(dir, 'build-scripts'));
  for (const step of ['build-validators.js', 'bundle-cli.js', 'code-cache.js'])
    copyFileSync(join(ROOT, 'scripts', step), join(dir, 'build-scripts', step));
  for (const step of ['build-validators.js', 'bundle-cli.js']) {
    execFileSync(process.execPath, [join(dir, 'build-scripts', step)], {
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    });
  }
  rmSync(join(dir, 'build-scripts'), { recursive: true });
  built = dir;
  return dir;
}

/** Removes the build (each test file makes its own). */
export function removeBuiltPackage(): void {
  if (built) rmSync(dirname(built), { recursive: true, force: true });
  built = undefined;
}

/** Installs the package into `project`/node_modules, with the bins npm would link. */
export function installPackage(project: string): void {
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  cpSync(buildPackage(), join(modules, 'pgcred'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry.startsWith('.') || entry === 'pgcred') continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  const bins: Record<string, string> = {
    pgcred: join('..', 'pgcred', 'bin', 'pgcred.js'),
    'pgcred-provider-install': join('..', 'pgcred', 'scripts', 'provider-install.js'),
    cdktf: join(ROOT, 'node_modules', '.bin', 'cdktf'),
    tsx: join(ROOT, 'node_modules', '.bin', 'tsx'),
  };
  for (const [name, target] of Object.entries(bins)) {
    symlinkSync(target, join(modules, '.bin', name));
  }
  chmodSync(join(modules, 'pgcred', 'bin', 'pgcred.js'), 0o755);
  chmodSync(join(modules, 'pgcred', 'scripts', 'provider-install.js'), 0o755);
}
