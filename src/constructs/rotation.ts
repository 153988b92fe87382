import { DEFAULT_GRACE_MS, type RotationPolicy } from '../model/config';
import { parseDuration } from '../model/duration';

/** Options shared by every rotation policy. */
export interface RotationOptions {
  /**
   * How long connections that use the old password may live before they are
   * terminated, written like `30m`.
   * @default '30m'
   */
  readonly grace?: string;
}

/**
 * When pgcred rotates a credential's password. Terraform never sees the password:
 * pgcred keeps it (encrypted) in its control store and hands it to the attached apps.
 */
export class Rotation {
  /** Rotate only when someone runs `pgcred credentials:rotate`. */
  static onRequest(options: RotationOptions = {}): Rotation {
    return new Rotation(undefined, options.grace);
  }

  /** `pgcred reconcile` rotates when the password is older than `interval` (e.g. `90d`). */
  static every(interval: string, options: RotationOptions = {}): Rotation {
    return new Rotation(interval, options.grace);
  }

  /** The policy in the model's terms (milliseconds). */
  readonly policy: RotationPolicy;

  private constructor(
    /** As written, e.g. `90d`; absent when rotation is on request only. */
    readonly every: string | undefined,
    /** As written, e.g. `30m`; absent means the default grace. */
    readonly grace: string | undefined,
  ) {
    // parseDuration throws a message that names the bad text, which is the construction error we want.
    this.policy = {
      everyMs: every === undefined ? undefined : parseDuration(every),
      graceMs: grace === undefined ? DEFAULT_GRACE_MS : parseDuration(grace),
    };
  }
}
