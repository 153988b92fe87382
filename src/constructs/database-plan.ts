import { planLimits } from '../model/plans';

/**
 * A database's plan, as Heroku names them. It decides how many credentials the
 * database may have besides default: none on Essential and legacy hobby plans.
 */
export class DatabasePlan {
  static readonly STANDARD_0 = new DatabasePlan('standard-0');
  static readonly PREMIUM_0 = new DatabasePlan('premium-0');
  static readonly ESSENTIAL_0 = new DatabasePlan('essential-0');

  /** Any plan by name (`standard-2`, `private-4`, `mini`, ...). */
  static of(name: string): DatabasePlan {
    return new DatabasePlan(name);
  }

  private constructor(readonly name: string) {}

  /** Credentials allowed besides default, unless the database overrides it. */
  get credentialLimit(): number {
    return planLimits(this.name).credentials;
  }

  toString(): string {
    return this.name;
  }
}
