import { readFileSync } from 'node:fs';

// What the provider reads of an app beyond src/attachments' own functions and the
// control store: whether its env file still holds its config vars.

/**
 * The config vars the env file lacks or holds with another value (quoted or not, as
 * writeEnvFile writes it), or 'no file'. A file deleted or edited by hand, or one a
 * failed delivery left stale, is written again by apply.
 */
export function envFileLacks(path: string, vars: ReadonlyMap<string, string>): string[] | 'no file' {
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').split('\n');
  } catch {
    return 'no file';
  }
  return [...vars]
    .filter(([name, value]) => !lines.some((line) => line.startsWith(`${name}=`) && line.includes(value)))
    .map(([name]) => name);
}
