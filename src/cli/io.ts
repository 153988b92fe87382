import { createInterface } from 'node:readline';
import { isatty } from 'node:tty';

/** Where a command reads and writes: the process, or a test. Data to stdout, progress to stderr. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** True when a person can answer a prompt. */
  readonly interactive: boolean;
  /** Reads one line of an answer. */
  readonly prompt: (question: string) => Promise<string>;
  /** Everything piped on standard input; absent when it is a terminal. */
  readonly readStdin?: () => Promise<string>;
}

export function processIo(): Io {
  // Asked of the descriptors: process.stdin builds its stream when first touched, which
  // a command that reads nothing need not wait for.
  const stdinIsTerminal = isatty(0);
  return {
    stdout: writerTo(process.stdout),
    stderr: writerTo(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    interactive: stdinIsTerminal && isatty(2),
    prompt: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
    ...(stdinIsTerminal
      ? {}
      : {
          readStdin: async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
            return Buffer.concat(chunks).toString('utf8');
          },
        }),
  };
}

/**
 * A reader that stops early (`pgcred credentials | head`) closes the pipe: the rest of
 * the output is dropped, and the command ends as it would have, with its own exit
 * code, instead of dying of an unhandled EPIPE.
 */
function writerTo(stream: NodeJS.WriteStream): (text: string) => void {
  let readerGone = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
  });
  return (text) => {
    if (!readerGone) stream.write(text);
  };
}

/** A failure the user can act on: printed as one line, exit 1. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
