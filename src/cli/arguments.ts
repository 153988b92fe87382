import { DEFAULT_CREDENTIAL } from '../model/config';
import { APP_NAME_PATTERN, ATTACHMENT_NAME_PATTERN, credentialNameProblem, showName } from '../model/names';
import { UserError } from './io';

/**
 * Checks of command-line arguments that need no database: they run before any
 * connection is opened, so bad input never reaches PostgreSQL or the control store.
 */
export function checkCredentialArgument(flag: string, name: string, allowDefault: boolean): void {
  if (allowDefault && name === DEFAULT_CREDENTIAL) return;
  const problem = credentialNameProblem(name);
  if (problem) throw new UserError(`${flag}: ${problem}`);
}

export function checkAppArgument(app: string): void {
  if (!APP_NAME_PATTERN.test(app)) {
    throw new UserError(
      `--app: ${showName(app)} is not an app name (lower-case letters, digits and '-', 2 to 30, starting with a letter)`,
    );
  }
}

/** An attachment name (`DATABASE`) or, where `configVar` allows, its config var (`DATABASE_URL`). */
export function checkAttachmentArgument(flag: string, name: string, configVar = false): void {
  const bare = configVar && name.endsWith('_URL') ? name.slice(0, -4) : name;
  if (!ATTACHMENT_NAME_PATTERN.test(bare)) {
    throw new UserError(
      `${flag}: ${showName(name)} is not an attachment name (upper-case letters, digits and '_', e.g. ANALYTICS)`,
    );
  }
}
