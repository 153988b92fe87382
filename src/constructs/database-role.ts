import type { DatabaseRole as RoleName } from '../model/config';

/** The database a follower or fork came from, as the constructs refer to it. */
export interface IDatabaseSource {
  /** Its Heroku-style name. */
  readonly name: string;
}

/**
 * Primary, follower (a streaming replica: its credentials arrive by replication and
 * cannot be changed on it) or fork (an independent copy that keeps its own).
 */
export class DatabaseRole {
  static readonly PRIMARY = new DatabaseRole('primary');

  /** A streaming replica of `source`; declare its credentials on the source. */
  static followerOf(source: IDatabaseSource): DatabaseRole {
    return new DatabaseRole('follower', source);
  }

  /** An independent copy of `source`, made at some point in time. */
  static forkOf(source: IDatabaseSource): DatabaseRole {
    return new DatabaseRole('fork', source);
  }

  private constructor(
    readonly name: RoleName,
    readonly source?: IDatabaseSource,
  ) {}
}
