import { PermissionLevel, type PermissionLevelName } from '../model/permission-level';

/**
 * A credential's permission level, one of the dashboard's three. The privileges
 * each level means live in the model's PermissionLevel table, not here.
 */
export class Permission {
  /** Can log in; reads nothing. */
  static none(): Permission {
    return new Permission(PermissionLevel.NONE);
  }

  /** Reads every table, view and sequence in the covered schemas, including later ones; writes nothing. */
  static readOnly(): Permission {
    return new Permission(PermissionLevel.READ_ONLY);
  }

  /** Reads and writes every table and uses sequences; creates nothing. */
  static readWrite(): Permission {
    return new Permission(PermissionLevel.READ_WRITE);
  }

  /** Escape hatch: a level by its pgcred.yaml name (`none`, `read-only`, `read-write`). */
  static of(name: PermissionLevelName | string): Permission {
    return new Permission(PermissionLevel.of(name));
  }

  private constructor(
    /** The model's level, with its privileges. */
    readonly level: PermissionLevel,
  ) {}

  toString(): string {
    return this.level.name;
  }
}
