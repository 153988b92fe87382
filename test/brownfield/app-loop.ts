import { Client } from 'pg';

/**
 * The apps that run on a brownfield database, as a loop: each actor opens a new
 * connection every iteration (an app behind a pooler reconnecting), runs its real
 * queries, and closes it. Any error, or a query that returns what the app would
 * not accept, is a failure, kept with its message. Loopback only; bounded in
 * iterations and in time, so a test that forgets stop() cannot run forever.
 */
export interface LoopStep {
  readonly name: string;
  /** Throws on failure; a wrong result is a failure too. */
  run(client: Client): Promise<void>;
}

export interface LoopActor {
  readonly name: string;
  readonly url: string;
  readonly steps: LoopStep[];
}

export interface LoopFailure {
  readonly actor: string;
  readonly step: string;
  readonly code?: string;
  readonly message: string;
  readonly iteration: number;
  /** Milliseconds since start(). */
  readonly at: number;
}

export interface LoopOptions {
  /** Pause between one actor's iterations. */
  readonly pauseMs?: number;
  /** Per actor. */
  readonly maxIterations?: number;
  readonly maxMs?: number;
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
}

export interface LoopReport {
  readonly iterations: Readonly<Record<string, number>>;
  readonly failures: readonly LoopFailure[];
  readonly elapsedMs: number;
  /** Why the loop ended: stop() or one of its bounds. */
  readonly ended: 'stopped' | 'max-iterations' | 'max-ms';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export class AppLoop {
  private readonly actors: LoopActor[];
  private readonly counts = new Map<string, number>();
  private readonly failureList: LoopFailure[] = [];
  private readonly options: Required<LoopOptions>;
  private running = false;
  private ended: LoopReport['ended'] = 'stopped';
  private startedAt = 0;
  private workers: Promise<void>[] = [];

  constructor(actors: readonly LoopActor[], options: LoopOptions = {}) {
    for (const actor of actors) {
      const host = new URL(actor.url).hostname;
      if (!LOOPBACK.has(host))
        throw new Error(`app loop: ${actor.name} must connect over loopback, not ${host}`);
    }
    this.actors = actors.map((a) => ({ ...a, steps: [...a.steps] }));
    this.options = {
      pauseMs: options.pauseMs ?? 25,
      maxIterations: options.maxIterations ?? 20_000,
      maxMs: options.maxMs ?? 180_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      queryTimeoutMs: options.queryTimeoutMs ?? 10_000,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = Date.now();
    this.workers = this.actors.map((actor) => this.work(actor));
  }

  /** Adds a query to an actor's iterations from its next one on (the app's new release). */
  addStep(actorName: string, step: LoopStep): void {
    const actor = this.actors.find((a) => a.name === actorName);
    if (!actor) throw new Error(`app loop: no actor ${actorName}`);
    actor.steps.push(step);
  }

  iterations(actorName: string): number {
    return this.counts.get(actorName) ?? 0;
  }

  get failures(): readonly LoopFailure[] {
    return this.failureList;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Waits until every actor has finished `rounds` more iterations than now, so
   * whatever just changed has been tried by each of them. Rejects when the loop
   * ended or the wait took longer than `timeoutMs`.
   */
  async settle(rounds = 2, timeoutMs = 15_000): Promise<void> {
    const target = new Map(this.actors.map((a) => [a.name, this.iterations(a.name) + rounds]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = this.actors.filter((a) => this.iterations(a.name) < target.get(a.name)!);
      if (behind.length === 0) return;
      if (!this.running)
        throw new Error(`app loop ended (${this.ended}) before ${behind[0]!.name} caught up`);
      if (Date.now() > deadline)
        throw new Error(`app loop: ${behind.map((a) => a.name).join(', ')} did not finish ${rounds} rounds`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<LoopReport> {
    this.running = false;
    await Promise.all(this.workers);
    return this.report();
  }

  report(): LoopReport {
    return {
      iterations: Object.fromEntries(this.actors.map((a) => [a.name, this.iterations(a.name)])),
      failures: [...this.failureList],
      elapsedMs: this.startedAt === 0 ? 0 : Date.now() - this.startedAt,
      ended: this.ended,
    };
  }

  private async work(actor: LoopActor): Promise<void> {
    for (let iteration = 1; this.running; iteration++) {
      if (iteration > this.options.maxIterations) return this.end('max-iterations');
      if (Date.now() - this.startedAt > this.options.maxMs) return this.end('max-ms');
      await this.once(actor, iteration);
      this.counts.set(actor.name, iteration);
      if (this.running) await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }

  private end(reason: LoopReport['ended']): void {
    this.ended = reason;
    this.running = false;
  }

  private async once(actor: LoopActor, iteration: number): Promise<void> {
    const client = new Client({
      connectionString: actor.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      query_timeout: this.options.queryTimeoutMs,
      application_name: `app-loop-${actor.name}`,
    });
    client.on('error', () => undefined);
    let step = 'connect';
    try {
      await client.connect();
      for (const s of [...actor.steps]) {
        step = s.name;
        await s.run(client);
      }
    } catch (error) {
      const e = error as { code?: string; message?: string };
      this.failureList.push({
        actor: actor.name,
        step,
        ...(e.code ? { code: e.code } : {}),
        message: e.message ?? String(error),
        iteration,
        at: Date.now() - this.startedAt,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Failures grouped by actor, step and message, with counts and the first time seen: what a report prints. */
export function summarize(failures: readonly LoopFailure[]): string[] {
  const groups = new Map<string, { count: number; first: number }>();
  for (const f of failures) {
    const key = `${f.actor} / ${f.step}: ${f.code ? `[${f.code}] ` : ''}${f.message}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { count: 1, first: f.at });
  }
  return [...groups].map(([key, g]) => `${key} (x${g.count}, first at ${g.first} ms)`);
}

/** One query, with an optional check of its rows. */
export function query(
  name: string,
  sql: string,
  params: unknown[] = [],
  check?: (rows: Record<string, unknown>[]) => string | undefined,
): LoopStep {
  return {
    name,
    run: async (client) => {
      const { rows } = await client.query(sql, params);
      const problem = check?.(rows);
      if (problem) throw new Error(`${name}: ${problem}`);
    },
  };
}
