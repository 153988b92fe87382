/**
 * The library: constructs and stacks for infra repos, and the model they share
 * with the CLI. `import { Database, Permission } from 'pgcred'`.
 */
export * from './constructs';
export type { Config, CredentialSpec, DatabaseSpec, GrantSpec, RotationPolicy } from './model/config';
export { PermissionLevel } from './model/permission-level';
export * from './stacks';
