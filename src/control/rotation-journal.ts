import type { ClientBase } from 'pg';
import { CONTROL_SCHEMA as S } from '../model/control-schema';
/**
 * The rotation journal's steps, in order (SPEC §4). Each is recorded once the work
 * before it is done, and every step's work can be done again safely, so a rotation
 * killed anywhere resumes from its journal.
 *
 * - journaled: the new password is stored; nothing in the database has changed.
 * - rotating-username: `<name>-rotating` exists with the new password and the apps point at it.
 * - password-set: `<name>` has the new password and the apps point back at it.
 * - finished: `<name>-rotating` is gone.
 */
import type { RotationStep } from '../model/rotation-steps';
import type { MasterKey } from './crypto';

export type { RotationStep };

/** One rotation, as the journal (pgcred.rotations) holds it. */
export interface Rotation {
  readonly id: number;
  /** The database whose credentials these are (a follower's are its primary's). */
  readonly database: string;
  readonly credential: string;
  /** The role: the credential's name, or the owner for `default`. */
  readonly username: string;
  readonly step: RotationStep;
  readonly force: boolean;
  readonly graceMs: number;
  /** How long an old username must have had no connections; undefined: the default. */
  readonly settleMs?: number;
  readonly stepAt: Date;
  readonly startedAt: Date;
}

export interface NewRotation {
  readonly database: string;
  readonly credential: string;
  readonly username: string;
  readonly force: boolean;
  readonly graceMs: number;
  readonly newPassword: string;
  readonly settleMs?: number;
}

function fromRow(row: Record<string, unknown>): Rotation {
  return {
    id: Number(row.id),
    database: row.database as string,
    credential: row.credential as string,
    username: row.username as string,
    step: row.step as RotationStep,
    force: row.force as boolean,
    graceMs: Number(row.grace_ms),
    ...(row.settle_ms === null || row.settle_ms === undefined ? {} : { settleMs: Number(row.settle_ms) }),
    stepAt: row.step_at as Date,
    startedAt: row.started_at as Date,
  };
}

/** The rotation journal's SQL, typed: the only code that reads or writes the rotations table. */
export class RotationJournal {
  constructor(
    private readonly client: ClientBase,
    private readonly key: MasterKey,
  ) {}

  private context(database: string, credential: string): string {
    return `${database}/rotation/${credential}`;
  }

  async open(database: string, credential: string): Promise<Rotation | undefined> {
    const { rows } = await this.client.query(
      `SELECT * FROM ${S}.rotations WHERE database = $1 AND credential = $2 AND finished_at IS NULL`,
      [database, credential],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Rotations under way, of one database or of all, oldest first. */
  async openAll(database?: string): Promise<Rotation[]> {
    const { rows } = await this.client.query(
      `SELECT * FROM ${S}.rotations WHERE finished_at IS NULL AND ($1::text IS NULL OR database = $1) ORDER BY id`,
      [database ?? null],
    );
    return rows.map(fromRow);
  }

  /** Journals a rotation; undefined when one is under way for the credential already. */
  async start(rotation: NewRotation): Promise<Rotation | undefined> {
    const { rows } = await this.client.query(
      `INSERT INTO ${S}.rotations (database, credential, username, step, force, grace_ms, new_password, settle_ms)
       VALUES ($1, $2, $3, 'journaled', $4, $5, $6, $7)
       ON CONFLICT (database, credential) WHERE finished_at IS NULL DO NOTHING
       RETURNING *`,
      [
        rotation.database,
        rotation.credential,
        rotation.username,
        rotation.force,
        rotation.graceMs,
        this.key.encrypt(rotation.newPassword, this.context(rotation.database, rotation.credential)),
        rotation.settleMs ?? null,
      ],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async newPassword(rotation: Rotation): Promise<string> {
    const { rows } = await this.client.query(`SELECT new_password FROM ${S}.rotations WHERE id = $1`, [
      rotation.id,
    ]);
    return this.key.decrypt(rows[0].new_password, this.context(rotation.database, rotation.credential));
  }

  /** Ends the credential's open rotation, if any, without finishing it: its role is gone. */
  async abandon(database: string, credential: string, note: string): Promise<void> {
    await this.client.query(
      `UPDATE ${S}.rotations SET finished_at = now(), note = $3
        WHERE database = $1 AND credential = $2 AND finished_at IS NULL`,
      [database, credential, note],
    );
  }

  async setStep(rotation: Rotation, step: RotationStep, note?: string): Promise<Rotation> {
    const { rows } = await this.client.query(
      `UPDATE ${S}.rotations SET step = $2, step_at = now(), note = coalesce($3, note),
              finished_at = CASE WHEN $2 = 'finished' THEN now() END
        WHERE id = $1 RETURNING *`,
      [rotation.id, step, note ?? null],
    );
    return fromRow(rows[0]);
  }
}
