import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configYaml, credentials } from '../../bench/fixture';
import { parseConfig } from '../../src/config/load';
import { readFast, readWithYaml, readYaml } from '../../src/config/read-yaml';
import { InvalidInputError } from '../../src/model/problem';

const REPO = join(__dirname, '..', '..');

/**
 * The fast path (js-yaml with `yaml`'s core schema) must read every document it takes
 * exactly as `yaml` does, and must take the files users write; the rest go to `yaml`.
 */
function sameAsYaml(text: string): 'fast' | 'yaml' {
  const fast = readFast(text, 'pgcred.yaml');
  if (!fast) return 'yaml';
  expect(fast.data).toStrictEqual(readWithYaml(text, 'pgcred.yaml'));
  return 'fast';
}

/** The repository's YAML files and the README's YAML examples. */
function repositoryDocuments(): [string, string][] {
  const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: REPO, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f): [string, string] => [f, readFileSync(join(REPO, f), 'utf8')]);
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m, i): [string, string] => [
    `README.md yaml block ${i + 1}`,
    m[1]!,
  ]);
  return [...files, ...blocks];
}

describe('reading YAML', () => {
  it.each(repositoryDocuments())('%s reads the same both ways', (_name, text) => {
    sameAsYaml(text);
  });

  it('takes the fast path for the files users write (the examples, the benchmark file)', () => {
    const taken = [
      readFileSync(join(REPO, 'examples', 'basic', 'pgcred.yaml'), 'utf8'),
      readFileSync(join(REPO, 'examples', 'cdktf-yaml', 'pgcred.yaml'), 'utf8'),
      configYaml(credentials()),
    ].map(sameAsYaml);
    expect(taken).toEqual(['fast', 'fast', 'fast']);
  });

  // Plain scalars where YAML 1.1, js-yaml's defaults and YAML 1.2 disagree, and quoted ones.
  const SCALARS = [
    ...['~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE'],
    ...['yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'NO'],
    ...['0', '-0', '+0', '12', '+12', '-12', '012', '0o17', '0o8', '0O17', '0x1F', '0X1F', '0xg'],
    ...['0b101', '1_000', '1,000', '9007199254740993', '123456789012345678901234567890'],
    ...['1.0', '1.50', '.5', '5.', '-.5', '+.5e-3', '1e3', '1E+3', '12e-3', '1.2.3', '0.'],
    ...['.inf', '-.inf', '+.INF', '.Inf', '.NaN', '.nan', '.NAN', 'nan', 'inf'],
    ...['2024-01-01', '2001-12-14t21:59:43.10-05:00', '12:30:00', '1:20', '190:20:30'],
    ...['90d', '30m', 'read-only', 'standard-0', '${DATABASE_ADMIN_URL}', '$${LITERAL}'],
    ...['postgres://u:p@h:5432/d', 'a b', 'a #b', 'a#b', 'é', '<<', '=', '@x', '`x'],
    ...["'1'", '"1"', "'true'", '"null"', "'it''s'", '"a\\tb"', '"\\u00e9\\x41"', '""', "''"],
  ];

  it.each(SCALARS)('the scalar %s reads the same in each position', (scalar) => {
    for (const text of [
      `key: ${scalar}\n`,
      `- ${scalar}\n`,
      `[${scalar}]\n`,
      `{ k: ${scalar} }\n`,
      `${scalar}: value\n`,
      `list:\n  - { name: x, value: ${scalar} }\n`,
    ]) {
      try {
        sameAsYaml(text);
      } catch (error) {
        throw new Error(`${JSON.stringify(text)}: ${(error as Error).message}`);
      }
    }
  });

  const DOCUMENTS: [string, string][] = [
    [
      'block scalars',
      'a: |\n  one\n  two\n\nb: >\n  folded\n  line\n\n  para\nc: |-\n  x\nd: |+\n  y\n\ne: >-\n  z\n',
    ],
    ['a plain scalar over lines', 'a: one\n  two\n   three\nb: "dq\n  over\n\n  lines"\nc: \'sq\n  x\'\n'],
    ['comments everywhere', '# top\na: 1 # trailing\n# between\nb: # after key\n  - x # item\n'],
    ['CRLF line ends', 'a: 1\r\nb:\r\n  - x\r\n  - y\r\n'],
    ['a byte-order mark', '\ufeffversion: 1\n'],
    ['a document start and end', '---\na: 1\n...\n'],
    ['empty values', 'a:\nb: ~\nc: []\nd: {}\ne: [ , ]\n'],
    ['__proto__ as a key', '__proto__: { polluted: true }\nb: 1\n'],
    ['a merge key', 'a: { x: 1 }\n<<: { y: 2 }\n'],
    ['tabs after values', 'a: 1\t\nb: "x"\t# c\n'],
    ['nested flow collections', 'a: [[1, 2], {b: [c, {d: e}]}, "f, g"]\n'],
    ['an empty document', ''],
    ['only comments', '# nothing\n'],
    ['a bare scalar', 'just text\n'],
    ['keys that are numbers and booleans', '1: a\ntrue: b\n0x10: c\n1.5: d\n'],
  ];

  it.each(DOCUMENTS)('%s read the same', (_name, text) => {
    sameAsYaml(text);
  });

  it('leaves anchors, aliases, tags, directives and complex keys to yaml', () => {
    const left = [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      '%YAML 1.1\n---\na: yes\n',
      '? [a, b]\n: c\n',
      'url: postgres://h/d?sslmode=require&application_name=x\n',
    ];
    expect(left.map(sameAsYaml)).toEqual(['yaml', 'yaml', 'yaml', 'yaml', 'yaml']);
    // What yaml makes of them is what pgcred has always made of them.
    expect(readYaml(left[2]!, 'pgcred.yaml')).toEqual({ a: true });
  });

  it('words and places every error as yaml does, whichever path the file would take', () => {
    const messageOf = (text: string) => {
      try {
        parseConfig(text, { file: 'pgcred.yaml', env: {} });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    expect(messageOf('version: 1\nversion: 2\n')).toMatch(/^pgcred\.yaml:2:1: Map keys must be unique/);
    expect(messageOf('a: [1, 2\n')).toMatch(/^pgcred\.yaml:\d+:\d+: /);
    expect(messageOf('a: b: c\n')).toMatch(/^pgcred\.yaml:1:\d+: /);
  });

  // Generated pgcred-like documents: every credential shape, with scalars from the list.
  it('reads 300 generated documents the same', () => {
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]) => xs[next(xs.length)]!;
    const plain = SCALARS.filter((s) => !/^['"]/.test(s) && !/[#,\][{}]/.test(s));
    let fast = 0;
    for (let d = 0; d < 300; d++) {
      const lines = ['version: 1', 'databases:', `  - name: ${pick(plain)}`, `    url: ${pick(plain)}`];
      lines.push('    credentials:');
      for (let c = 0; c < 1 + next(8); c++) {
        const shape = next(4);
        if (shape === 0) lines.push(`      - { name: c${c}, permission: ${pick(plain)} }`);
        else if (shape === 1) lines.push(`      - name: c${c}`, `        permission: ${pick(SCALARS)}`);
        else if (shape === 2)
          lines.push(
            `      - name: c${c}`,
            '        grants:',
            `          - { privileges: [${pick(plain)}, SELECT], on: table, objects: [public.${pick(plain)}] }`,
          );
        else
          lines.push(`      - { name: c${c}, rotation: { every: ${pick(plain)}, grace: ${pick(SCALARS)} } }`);
      }
      if (next(2)) lines.push(`credentialLimit: ${pick(SCALARS)}`, `# ${pick(SCALARS)}`);
      if (sameAsYaml(`${lines.join(next(5) === 0 ? '\r\n' : '\n')}\n`) === 'fast') fast++;
    }
    // Most take the fast path (those that do not hold a screened character or an error).
    expect(fast).toBeGreaterThan(200);
  });
});
