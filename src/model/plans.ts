/**
 * What a database's plan allows. Heroku's Essential and legacy hobby plans carry
 * only the default credential; production plans carry 60 more (Heroku raised its
 * own limit to 120 in 2024, so the number is a setting, not a constant).
 */
export const DEFAULT_CREDENTIAL_LIMIT = 60;

const SINGLE_CREDENTIAL_PLAN = /^(essential(-\d+)?|mini|basic|hobby(-dev|-basic)?)$/;

export interface PlanLimits {
  /** Credentials allowed besides the default credential. */
  readonly credentials: number;
  /** True when only the default credential exists (Essential tier). */
  readonly defaultOnly: boolean;
}

export function planLimits(plan: string, override?: number): PlanLimits {
  if (SINGLE_CREDENTIAL_PLAN.test(plan)) return { credentials: 0, defaultOnly: true };
  return { credentials: override ?? DEFAULT_CREDENTIAL_LIMIT, defaultOnly: false };
}

export const ESSENTIAL_TIER_MESSAGE = "You can't create a custom credential on Essential-tier databases.";
export const FOLLOWER_MESSAGE = 'This operation is not supported for follower databases.';
