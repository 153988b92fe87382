import type { DatabaseSpec } from '../model/config';
import { planLimits } from '../model/plans';
import { type CredentialCount, REFUSAL_TITLES, tooManyCredentials } from '../model/refusals';
import { type Diagnostic, error } from './diagnostics';
import { knownString } from './provider-config';
import type { ObjectValue } from './values';

/** The same words whichever credential Terraform happened to plan last, on the database attribute. */
export function tooManyDiagnostic(
  spec: Pick<DatabaseSpec, 'name' | 'plan' | 'credentialLimit'>,
  count: CredentialCount,
): Diagnostic {
  const refusal = tooManyCredentials(spec, count);
  return error(REFUSAL_TITLES[refusal.code], refusal.message, [...refusal.attribute]);
}

/**
 * The credential limit as `terraform validate` can tell it: Terraform validates
 * every resource block in one provider process, after the provider block, so the
 * process can count the credentials the configuration declares in each database.
 * Only blocks whose database and name are literals count (variables are unknown
 * at validate); plan counts the rest against the live database.
 */
export class DeclaredCredentials {
  private readonly limits = new Map<string, { plan: string; limit: number }>();
  private readonly declared = new Map<string, Set<string>>();
  private lastDeclared = 0;

  /** The database blocks of a provider block being validated. */
  noteProvider(config: ObjectValue): void {
    const blocks = Array.isArray(config.database) ? (config.database as ObjectValue[]) : [];
    for (const block of blocks) {
      if (!knownString(block.name)) continue;
      const plan = knownString(block.plan) ? block.plan : 'standard-0';
      if (block.plan !== null && block.plan !== undefined && !knownString(block.plan)) continue;
      const override = typeof block.credential_limit === 'number' ? block.credential_limit : undefined;
      if (block.credential_limit !== null && block.credential_limit !== undefined && override === undefined)
        continue;
      const limits = planLimits(plan, override);
      if (!limits.defaultOnly) this.limits.set(block.name, { plan, limit: limits.credentials });
    }
  }

  /** A pgcred_credential block being validated: refused once the configuration declares too many. */
  async check(config: ObjectValue, quietMs = 300): Promise<Diagnostic[]> {
    const { database, name } = config;
    if (!knownString(database) || !knownString(name)) return [];
    const limits = this.limits.get(database);
    if (!limits) return [];
    let names = this.declared.get(database);
    if (!names) {
      names = new Set();
      this.declared.set(database, names);
    }
    names.add(name);
    this.lastDeclared = Date.now();
    if (names.size <= limits.limit) return [];
    // Blocks are validated in parallel and in no fixed order: count them all before answering.
    for (let left = quietMs; left > 0; left = this.lastDeclared + quietMs - Date.now()) {
      await new Promise((resolve) => setTimeout(resolve, left));
    }
    return [
      tooManyDiagnostic(
        { name: database, plan: limits.plan, credentialLimit: limits.limit },
        { declared: names.size, by: 'this configuration' },
      ),
    ];
  }
}
