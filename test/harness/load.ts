import { readFileSync } from 'node:fs';
import { Client } from 'pg';

/**
 * An app under load: clients that read the app's env file, connect with the URL
 * it holds, run transactions for a while on that connection (as a pool would), and
 * connect again with whatever the file holds then. Every failed transaction counts.
 */
export class AppLoad {
  transactions = 0;
  readonly failures: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly envFile: string,
    private readonly variable: string,
    private readonly sql: string,
    clients = 8,
    private readonly transactionsPerConnection = 15,
  ) {
    for (let i = 0; i < clients; i++) this.loops.push(this.loop());
  }

  private currentUrl(): string {
    const line = readFileSync(this.envFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${this.variable}=`));
    if (!line) throw new Error(`${this.variable} is not in ${this.envFile}`);
    return line.slice(this.variable.length + 1);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const client = new Client({ connectionString: this.currentUrl() });
      client.on('error', () => undefined);
      try {
        await client.connect();
        for (let i = 0; i < this.transactionsPerConnection && this.running; i++) {
          await client.query('BEGIN');
          await client.query(this.sql);
          await client.query('COMMIT');
          this.transactions++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } catch (error) {
        this.failures.push((error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
