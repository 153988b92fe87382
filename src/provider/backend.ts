/**
 * The part of the provider that reaches databases: loaded when Terraform first
 * configures the provider, so schema and validation requests never load pg or the
 * reconciler. Add a resource type's operations here and its schema in schema.ts.
 */
import { appOperations } from './app-resource';
import { attachmentOperations } from './attachment-resource';
import { credentialOperations } from './credential-resource';
import { credentialUrlOperations } from './credential-url';
import type { DataSourceOperations, ResourceOperations } from './operations';
import { APP_TYPE, ATTACHMENT_TYPE, CREDENTIAL_TYPE, CREDENTIAL_URL_TYPE } from './schema';

export { ProviderSession } from './session';

export const RESOURCE_OPERATIONS: Readonly<Record<string, ResourceOperations>> = {
  [CREDENTIAL_TYPE]: credentialOperations,
  [APP_TYPE]: appOperations,
  [ATTACHMENT_TYPE]: attachmentOperations,
};

export const DATA_SOURCE_OPERATIONS: Readonly<Record<string, DataSourceOperations>> = {
  [CREDENTIAL_URL_TYPE]: credentialUrlOperations,
};
