import type { DatabaseSpec } from '../model/config';
import { type Diagnostic, error, type PathStep } from './diagnostics';
import { knownString } from './provider-config';
import type { ProviderSession } from './session';
import type { ObjectValue } from './values';

/**
 * What the resource and data source implementations share: the session (undefined
 * while the provider block holds values known only after apply) and the results
 * they hand back to the protocol layer.
 */
export interface ResourceResult {
  readonly state: ObjectValue | null;
  readonly diagnostics: readonly Diagnostic[];
}

export interface PlanResult {
  readonly planned: ObjectValue | null;
  readonly requiresReplace: readonly (readonly PathStep[])[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface ResourceOperations {
  plan(
    session: ProviderSession | undefined,
    prior: ObjectValue | null,
    proposed: ObjectValue | null,
    config: ObjectValue | null,
  ): Promise<PlanResult>;
  apply(
    session: ProviderSession | undefined,
    prior: ObjectValue | null,
    planned: ObjectValue | null,
    config: ObjectValue | null,
  ): Promise<ResourceResult>;
  read(session: ProviderSession | undefined, state: ObjectValue): Promise<ResourceResult>;
  importState(session: ProviderSession | undefined, id: string): Promise<ResourceResult>;
}

export interface DataSourceOperations {
  read(session: ProviderSession | undefined, config: ObjectValue): Promise<ResourceResult>;
}

export const NOT_CONFIGURED = error(
  'Provider configuration not known',
  'the pgcred provider block holds values that are known only after apply; apply what they come from first',
);

/** The provider's database block a resource names, or a diagnostic on its `database` attribute. */
export function specOf(
  session: ProviderSession,
  database: unknown,
): { spec?: DatabaseSpec; diagnostics: Diagnostic[] } {
  if (!knownString(database)) return { diagnostics: [] };
  const spec = session.database(database);
  if (spec) return { spec, diagnostics: [] };
  return {
    diagnostics: [
      error(
        'Unknown database',
        `the provider has no database block named "${database}" (it declares ${session.databaseNames()})`,
        ['database'],
      ),
    ],
  };
}
