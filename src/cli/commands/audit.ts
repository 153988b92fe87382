import type { Command } from 'commander';
import type { CommandContext } from '../context';
import { UserError } from '../io';

/** `pgcred audit`: who did what and when, from the control store. It never holds a secret. */
export function registerAudit(program: Command, context: () => CommandContext): void {
  program
    .command('audit')
    .description('show the audit log: who changed what, and when')
    .option('--limit <n>', 'how many entries, newest first', '50')
    .option('--database <name>', 'only this database')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; database?: string; json?: boolean }) => {
      const ctx = context();
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw new UserError(`--limit: "${options.limit}" is not a number from 1 to 10000`);
      }
      const rc = await ctx.reconcileContext();
      const rows = await rc.control.auditLog({
        limit,
        ...(options.database !== undefined ? { database: options.database } : {}),
      });
      if (options.json) {
        ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      // Required here: the other commands start without the table printer.
      const Table = require('cli-table3') as typeof import('cli-table3');
      const table = new Table({
        head: ['When', 'Who', 'What', 'Database', 'Subject'],
        style: { head: [], border: [] },
      });
      for (const row of rows) {
        table.push([
          (row.at as Date).toISOString().replace('T', ' ').slice(0, 19),
          row.actor,
          row.action,
          row.database ?? '',
          row.subject ?? '',
        ]);
      }
      ctx.io.stdout(`${table.toString()}\n`);
    });
}
