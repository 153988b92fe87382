import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Problem } from '../model/problem';
import { projectFile } from '../project';

const validators = new Map<string, ValidateFunction>();

/** Where the build puts a schema's validator as plain JavaScript (see standaloneValidator). */
export function standalonePath(dir: string, file: string): string {
  return join(dir, 'validators', `${file.replace(/\.json$/, '')}.js`);
}

function schemaCompiler(): Ajv {
  // Loaded only when a validator is compiled: the built CLI reads the validators the
  // build wrote, and saves loading ajv and compiling (some 150 ms of every command).
  const { default: AjvClass } = require('ajv') as typeof import('ajv');
  const ajv = new AjvClass({
    allErrors: true,
    strict: true,
    verbose: true,
    useDefaults: false,
    code: { source: true },
  });
  // Annotation only: the sentence an error for this pattern prints.
  ajv.addKeyword({ keyword: 'patternMessage', schemaType: 'string' });
  return ajv;
}

export function compileSchema(file: string): { ajv: Ajv; validate: ValidateFunction } {
  const schema = readFileSync(projectFile('schemas', file), 'utf8');
  // The standalone validators have no format functions; a format would pass unchecked.
  if (/"format"\s*:/.test(schema))
    throw new Error(`${file}: "format" is not supported by pgcred's validators`);
  const ajv = schemaCompiler();
  return { ajv, validate: ajv.compile(JSON.parse(schema)) };
}

/** A schema's validator as the source of a CommonJS module, for the build to write. */
export function standaloneValidator(file: string): string {
  const { default: standaloneCode } = require('ajv/dist/standalone') as typeof import('ajv/dist/standalone');
  const { ajv, validate } = compileSchema(file);
  return standaloneCode(ajv, validate);
}

/**
 * Where the build wrote the validators: beside this module in dist/config, and in
 * dist/config too when this module runs inside the CLI's bundle (dist/cli). From
 * src/ (tests, tsx) neither exists, and the schemas are compiled.
 */
function builtValidator(file: string): string | undefined {
  return [__dirname, join(__dirname, '..', 'config')]
    .map((dir) => standalonePath(dir, file))
    .find((path) => existsSync(path));
}

/** The validator of a schema of schemas/: the one the build wrote, else compiled once per process. */
export function schemaValidator(file: string): ValidateFunction {
  let validate = validators.get(file);
  if (!validate) {
    const built = builtValidator(file);
    validate = built ? (require(built) as ValidateFunction) : compileSchema(file).validate;
    validators.set(file, validate);
  }
  return validate;
}

export function validateAgainstSchema(file: string, data: unknown): Problem[] {
  const validate = schemaValidator(file);
  if (validate(data)) return [];
  return describeSchemaErrors(validate.errors ?? []);
}

/** `/databases/0/credentials/3/name` as a reader writes it: `databases[0].credentials[3].name`. */
export function jsonPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${show(value)}`;
}

/** One line per problem; several errors about one value keep the most specific. */
export function describeSchemaErrors(errors: readonly ErrorObject[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = jsonPath(error.instancePath);
    let message: string;
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = (error.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
        message = `unknown key ${show(key)} (known: ${known.join(', ')})`;
        break;
      }
      case 'required':
        message = `missing required key ${show((error.params as { missingProperty: string }).missingProperty)}`;
        break;
      case 'type':
        message = `must be ${article(String((error.params as { type: string }).type))}, got ${typeOf(error.data)}`;
        break;
      case 'pattern': {
        const custom = (error.parentSchema as { patternMessage?: string }).patternMessage;
        message = `${show(error.data)} ${custom ?? `does not match ${(error.params as { pattern: string }).pattern}`}`;
        break;
      }
      case 'enum':
        message = `${show(error.data)} is not one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
        break;
      case 'const':
        message = `must be ${show((error.params as { allowedValue: unknown }).allowedValue)}, got ${show(error.data)}`;
        break;
      case 'maxItems':
        message = `has ${(error.data as unknown[]).length} entries; at most ${(error.params as { limit: number }).limit} are allowed`;
        break;
      case 'minItems':
        message = `needs at least ${(error.params as { limit: number }).limit} entr${(error.params as { limit: number }).limit === 1 ? 'y' : 'ies'}`;
        break;
      case 'minLength':
        message = 'must not be empty';
        break;
      default:
        message = error.message ?? `fails ${error.keyword}`;
    }
    const line = `${path}\u0000${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    problems.push({ path, message });
  }
  return problems;
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  if (type === 'integer') return 'an integer';
  return `a ${type}`;
}
