import { DEFAULT_CREDENTIAL } from '../model/config';
import { ATTACHMENT_NAME_PATTERN, credentialNameProblem, showName } from '../model/names';
import { appNameProblem } from './app-config';
import { type Diagnostic, error } from './diagnostics';
import { knownString } from './provider-config';
import type { ObjectValue } from './values';

export function attachmentNameProblem(name: string): string | undefined {
  return ATTACHMENT_NAME_PATTERN.test(name)
    ? undefined
    : `${showName(name)} is not an attachment name (upper-case letters, digits and '_', e.g. ANALYTICS)`;
}

/** What `terraform validate` reports about a pgcred_attachment. */
export function validateAttachmentConfig(config: ObjectValue): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  if (knownString(config.credential) && config.credential !== DEFAULT_CREDENTIAL) {
    const problem = credentialNameProblem(config.credential);
    if (problem) diagnostics.push(error('Invalid credential name', problem, ['credential']));
  }
  if (knownString(config.app)) {
    const problem = appNameProblem(config.app);
    if (problem) diagnostics.push(error('Invalid app name', problem, ['app']));
  }
  if (knownString(config.as)) {
    const problem = attachmentNameProblem(config.as);
    if (problem) diagnostics.push(error('Invalid attachment name', problem, ['as']));
  }
  return diagnostics;
}
