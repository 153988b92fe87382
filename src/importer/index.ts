import { connectAdmin } from '../postgres/connection';
import { sqlFile } from '../project';
import { inSnapshot, inspect } from '../reconciler/inspect';
import type { LiveState } from '../reconciler/live-state';
import {
  describeDatabase,
  type ImportedDatabase,
  type ImportFacts,
  type ImportOptions,
  type OwnerGain,
  type RoleObjects,
} from './describe';

export type { IgnoredRole, ImportedCredential, ImportedDatabase, ImportOptions } from './describe';
export { describeDatabase } from './describe';
export { importTypeScript } from './typescript';
export { importYaml } from './yaml';

const sql = (name: string) => sqlFile('importer', name);

/**
 * Reads a live database and describes it as a declaration. Changes nothing: the
 * catalogs are read in one READ ONLY snapshot, and no control store is opened.
 */
export async function importDatabase(url: string, options: ImportOptions): Promise<ImportedDatabase> {
  const client = await connectAdmin(url, options.name);
  try {
    const { live, facts } = await inSnapshot(client, async () => {
      const live: LiveState = await inspect(client, { allColumns: true });
      const owner = live.server.owner;
      const roleObjects = (await client.query<RoleObjects>(sql('role_objects'))).rows;
      const ownerGains = (await client.query<OwnerGain>(sql('owner_gains'), [owner])).rows;
      const facts: ImportFacts = { roleObjects, ownerGains };
      return { live, facts };
    });
    return describeDatabase(live, facts, options);
  } finally {
    await client.end().catch(() => undefined);
  }
}
