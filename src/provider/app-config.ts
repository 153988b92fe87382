import { parseDuration } from '../model/duration';
import { APP_NAME_PATTERN, showName } from '../model/names';
import { type Diagnostic, error } from './diagnostics';
import { knownString } from './provider-config';
import type { ObjectValue } from './values';

/**
 * A pgcred_app's configuration, checked without a database (`terraform validate`):
 * this module stays off the backend, so validation never loads pg.
 */
export const DEFAULT_RESTART_TIMEOUT_MS = 60_000;

export function appNameProblem(name: string): string | undefined {
  return APP_NAME_PATTERN.test(name)
    ? undefined
    : `${showName(name)} is not an app name (lower-case letters, digits and '-', 2 to 30, starting with a letter)`;
}

/** What `terraform validate` reports about a pgcred_app. */
export function validateAppConfig(config: ObjectValue): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  if (knownString(config.name)) {
    const problem = appNameProblem(config.name);
    if (problem) diagnostics.push(error('Invalid app name', problem, ['name']));
  }
  if (knownString(config.restart_timeout)) {
    try {
      parseDuration(config.restart_timeout);
    } catch (caught) {
      diagnostics.push(error('Invalid duration', (caught as Error).message, ['restart_timeout']));
    }
  }
  for (const key of ['env_file', 'restart'] as const) {
    if (config[key] === '') diagnostics.push(error(`Empty ${key}`, `leave ${key} out instead`, [key]));
  }
  return diagnostics;
}
