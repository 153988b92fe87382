import { existsSync, readFileSync } from 'node:fs';
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

const sqlCache = new Map<string, string>();

/**
 * The text of `src/<folder>/sql/<name>.sql`: catalog SQL lives in .sql files beside
 * the module that runs it, read once per process.
 */
export function sqlFile(folder: string, name: string): string {
  const path = projectFile('src', folder, 'sql', `${name}.sql`);
  let text = sqlCache.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8');
    sqlCache.set(path, text);
  }
  return text;
}
