import type { SingleBar } from 'cli-progress';
import { formatDuration } from '../model/duration';
import type { RotationWait } from '../rotation/rotate';
import type { Io } from './io';

/**
 * What a rotation waits for, on stderr: a live bar on a terminal, a line every few
 * seconds otherwise (CI logs, pipes).
 */
export class RotationProgress {
  private bar?: SingleBar;
  private lastLine = 0;
  private phase = '';
  /** True once anything was written, so the caller ends its line again. */
  printed = false;

  constructor(
    private readonly io: Io,
    private readonly intervalMs = 5_000,
  ) {}

  update(wait: RotationWait): void {
    const text = `${wait.connections} connection${wait.connections === 1 ? '' : 's'} left on ${wait.waitingFor}, ${formatDuration(Math.max(0, wait.remainingMs))} until they are terminated`;
    if (this.io.interactive && process.stderr.isTTY) {
      const phase = `${wait.credential}/${wait.waitingFor}`;
      if (this.phase !== phase) {
        this.stop();
        this.phase = phase;
        // Required here: only a rotation on a terminal draws a bar.
        const { Presets, SingleBar } = require('cli-progress') as typeof import('cli-progress');
        this.bar = new SingleBar(
          {
            format: `Waiting for ${wait.waitingFor} [{bar}] {text}`,
            hideCursor: true,
            clearOnComplete: true,
            stream: process.stderr,
          },
          Presets.shades_classic,
        );
        this.bar.start(Math.max(1, Math.round(wait.remainingMs / 1000)), 0, { text });
        this.printed = true;
      }
      const total = this.bar!.getTotal();
      this.bar!.update(Math.max(0, total - Math.round(wait.remainingMs / 1000)), { text });
      return;
    }
    if (Date.now() - this.lastLine >= this.intervalMs) {
      this.lastLine = Date.now();
      this.io.stderr(`${this.printed ? '' : '\n'}Waiting: ${text}\n`);
      this.printed = true;
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
