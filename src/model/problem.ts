/** One thing wrong with the input, with the JSON path where it is (`databases[0].credentials[3].name`). */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

export function formatProblem(problem: Problem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

/** Bad input: the CLI prints one line per problem and exits 1, before anything is changed. */
export class InvalidInputError extends Error {
  constructor(
    readonly problems: readonly Problem[],
    readonly source?: string,
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InvalidInputError';
  }
}
