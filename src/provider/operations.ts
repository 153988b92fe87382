import type { Diagnostic, PathStep } from './diagnostics';
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
