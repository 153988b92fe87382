import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

/**
 * The package root, found from this file whether it runs from src/ (tests) or
 * dist/ (the installed CLI), so schemas/ and the .sql files beside the TypeScript
 * sources are read from one place.
 */
export function projectRoot(): string {
  if (!root) {
    let dir = __dirname;
    while (!existsSync(join(dir, 'package.json'))) {
      const parent = dirname(dir);
      if (parent === dir) throw new Error('pgcred: cannot find its package root');
      dir = parent;
    }
    root = dir;
  }
  return root;
}

export function projectFile(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}
