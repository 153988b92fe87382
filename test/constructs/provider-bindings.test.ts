import { join } from 'node:path';
import { App, TerraformOutput, TerraformStack, Testing } from 'cdktf';
import * as ts from 'typescript';
import { projectFile } from '../../src/project';
import { PgcredProvider as ProviderService } from '../../src/provider/provider';
import {
  APP_SCHEMA,
  APP_TYPE,
  ATTACHMENT_SCHEMA,
  ATTACHMENT_TYPE,
  CREDENTIAL_SCHEMA,
  CREDENTIAL_TYPE,
  CREDENTIAL_URL_SCHEMA,
  CREDENTIAL_URL_TYPE,
  PROVIDER_SCHEMA,
} from '../../src/provider/schema';
import type { AttributeSpec, BlockSpec, TypeSpec } from '../../src/provider/values';

/**
 * The pgcred provider's construct bindings (src/constructs/provider-pgcred) are written
 * by hand; this holds them to the provider's schema field by field, both as TypeScript
 * declares them (what a user's editor and compiler see) and as they synthesize (what
 * Terraform receives): every argument with its type and whether it is required, every
 * computed attribute as a getter, every sensitive one said so in its doc.
 */
interface Binding {
  readonly block: BlockSpec;
  readonly configInterface: string;
  readonly className: string;
}

const RESOURCE_BINDINGS: Record<string, Binding> = {
  [CREDENTIAL_TYPE]: {
    block: CREDENTIAL_SCHEMA.block,
    configInterface: 'PgcredCredentialConfig',
    className: 'PgcredCredential',
  },
  [APP_TYPE]: { block: APP_SCHEMA.block, configInterface: 'PgcredAppConfig', className: 'PgcredApp' },
  [ATTACHMENT_TYPE]: {
    block: ATTACHMENT_SCHEMA.block,
    configInterface: 'PgcredAttachmentConfig',
    className: 'PgcredAttachment',
  },
};
const DATA_SOURCE_BINDINGS: Record<string, Binding> = {
  [CREDENTIAL_URL_TYPE]: {
    block: CREDENTIAL_URL_SCHEMA.block,
    configInterface: 'DataPgcredCredentialUrlConfig',
    className: 'DataPgcredCredentialUrl',
  },
};
const PROVIDER_BINDING: Binding = {
  block: PROVIDER_SCHEMA.block,
  configInterface: 'PgcredProviderConfig',
  className: 'PgcredProvider',
};

/** Terraform's meta-arguments: in every binding, in no schema. */
const META = new Set(['provider', 'dependsOn', 'count', 'lifecycle', 'forEach', 'alias']);
/** Where a block's binding name is not Terraform's: a list of blocks reads as a plural. */
const BLOCK_NAMES: Record<string, string> = { database: 'databases' };

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const blockProperty = (name: string) => BLOCK_NAMES[name] ?? camel(name);
const blockName = (property: string) =>
  Object.entries(BLOCK_NAMES).find(([, to]) => to === property)?.[0] ?? snake(property);

const DIR = projectFile('src', 'constructs', 'provider-pgcred');
const program = ts.createProgram([join(DIR, 'index.ts')], { strict: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const declarations = new Map<string, ts.InterfaceDeclaration | ts.ClassDeclaration>();
for (const file of program.getSourceFiles()) {
  if (!file.fileName.startsWith(DIR)) continue;
  ts.forEachChild(file, (node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name) {
      declarations.set(node.name.text, node);
    }
  });
}

function declaration(name: string): ts.InterfaceDeclaration | ts.ClassDeclaration {
  const found = declarations.get(name);
  if (!found) throw new Error(`src/constructs/provider-pgcred declares no ${name}`);
  return found;
}

function docOf(node: ts.Node): string {
  const symbol = checker.getSymbolAtLocation((node as ts.NamedDeclaration).name!);
  return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)) : '';
}

function typeText(node: ts.PropertySignature | ts.GetAccessorDeclaration): string {
  const type = checker.getTypeAtLocation(node);
  return checker.typeToString(checker.getNonNullableType(type));
}

/** The TypeScript type a binding gives an attribute of this type: an argument, or a getter's result. */
function expectedType(type: TypeSpec, getter: boolean): string {
  if (Array.isArray(type)) return `${getter ? '' : 'readonly '}${expectedType(type[1], getter)}[]`;
  return { string: 'string', number: 'number', bool: getter ? 'IResolvable' : 'boolean' }[type as string]!;
}

interface Field {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly sensitive: boolean;
}

/** The arguments as the config interface declares them, by Terraform name, nested blocks as theirs. */
function declaredArguments(interfaceName: string): Record<string, Field | Record<string, unknown>> {
  const node = declaration(interfaceName) as ts.InterfaceDeclaration;
  const fields: Record<string, Field | Record<string, unknown>> = {};
  for (const member of node.members) {
    if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
    const name = member.name.text;
    if (META.has(name)) continue;
    const nested = blockInterface(member);
    fields[nested ? blockName(name) : snake(name)] = nested
      ? { block: declaredArguments(nested.name), list: nested.list, required: !member.questionToken }
      : {
          name,
          type: typeText(member),
          required: !member.questionToken,
          sensitive: /\(sensitive\)/.test(docOf(member)),
        };
  }
  return fields;
}

function blockInterface(member: ts.PropertySignature): { name: string; list: boolean } | undefined {
  let type = member.type!;
  let list = false;
  if (ts.isTypeOperatorNode(type)) type = type.type;
  if (ts.isArrayTypeNode(type)) {
    list = true;
    type = type.elementType;
  }
  if (
    ts.isTypeReferenceNode(type) &&
    ts.isIdentifier(type.typeName) &&
    declarations.has(type.typeName.text)
  ) {
    return { name: type.typeName.text, list };
  }
  return undefined;
}

/** The arguments the schema expects, in the same shape. */
function schemaArguments(block: BlockSpec): Record<string, Field | Record<string, unknown>> {
  const fields: Record<string, Field | Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(block.attributes)) {
    if (!spec.required && !spec.optional) continue;
    fields[name] = {
      name: camel(name),
      type: expectedType(spec.type, false),
      required: spec.required === true,
      sensitive: spec.sensitive === true,
    };
  }
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    fields[name] = {
      block: schemaArguments(nested.block),
      list: nested.nesting === 'list',
      required: (nested.minItems ?? 0) > 0,
    };
  }
  return fields;
}

/** Computed-only attributes, as getters on the binding's class. */
function declaredGetters(className: string): Record<string, Omit<Field, 'required'>> {
  const node = declaration(className) as ts.ClassDeclaration;
  const getters: Record<string, Omit<Field, 'required'>> = {};
  for (const member of node.members) {
    if (!ts.isGetAccessorDeclaration(member) || !ts.isIdentifier(member.name)) continue;
    const modifiers = ts.getCombinedModifierFlags(member);
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    getters[snake(member.name.text)] = {
      name: member.name.text,
      type: typeText(member),
      sensitive: /\(sensitive\)/.test(docOf(member)),
    };
  }
  return getters;
}

/**
 * The getters the schema calls for: every computed attribute (only Terraform knows
 * it), and those of the arguments that the binding chose to expose as references.
 */
function schemaGetters(
  block: BlockSpec,
  declared: readonly string[],
): Record<string, Omit<Field, 'required'>> {
  const getters: Record<string, Omit<Field, 'required'>> = {};
  for (const [name, spec] of Object.entries(block.attributes)) {
    if (!spec.computed && !declared.includes(name)) continue;
    getters[name] = {
      name: camel(name),
      type: expectedType(spec.type, true),
      sensitive: spec.sensitive === true,
    };
  }
  return getters;
}

/** A value of the attribute's type, distinct per attribute, to see it arrive under its Terraform name. */
function sample(name: string, spec: AttributeSpec): unknown {
  if (Array.isArray(spec.type)) return [`${name}-1`, `${name}-2`];
  return { string: `${name}-value`, number: name.length, bool: true }[spec.type as string];
}

/** The same arguments, by binding name (config) and by Terraform name (what synth must write). */
function samples(block: BlockSpec): { config: Record<string, unknown>; terraform: Record<string, unknown> } {
  const config: Record<string, unknown> = {};
  const terraform: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(block.attributes)) {
    if (!spec.required && !spec.optional) continue;
    config[camel(name)] = sample(name, spec);
    terraform[name] = sample(name, spec);
  }
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const inner = samples(nested.block);
    config[blockProperty(name)] = nested.nesting === 'list' ? [inner.config] : inner.config;
    terraform[name] = nested.nesting === 'list' ? [inner.terraform] : inner.terraform;
  }
  return { config, terraform };
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value, key)]));
}

type Bindings = Record<string, new (scope: TerraformStack, id: string, config: never) => object>;
// biome-ignore lint/suspicious/noExplicitAny: the bindings are looked up by name from the table above
const bindings = require('../../src/constructs/provider-pgcred') as Bindings & Record<string, any>;

describe("the pgcred provider's construct bindings", () => {
  it('bind every resource and data source the provider serves, and nothing else', async () => {
    const schema = (await new ProviderService({}).rpcs().GetProviderSchema!({})) as {
      resource_schemas: object;
      data_source_schemas: object;
    };
    expect(Object.keys(RESOURCE_BINDINGS).sort()).toEqual(Object.keys(schema.resource_schemas).sort());
    expect(Object.keys(DATA_SOURCE_BINDINGS).sort()).toEqual(Object.keys(schema.data_source_schemas).sort());
    for (const [type, binding] of Object.entries({ ...RESOURCE_BINDINGS, ...DATA_SOURCE_BINDINGS })) {
      expect([type, bindings[binding.className].tfResourceType]).toEqual([type, type]);
    }
  });

  const all = Object.entries({ provider: PROVIDER_BINDING, ...RESOURCE_BINDINGS, ...DATA_SOURCE_BINDINGS });

  it.each(all)(
    '%s: the config declares each argument with its type, required or optional, sensitive or not',
    (_, binding) => {
      expect(declaredArguments(binding.configInterface)).toEqual(schemaArguments(binding.block));
    },
  );

  it.each(all.filter(([type]) => type !== 'provider'))(
    '%s: each computed attribute is a getter of its type, its doc saying when it is sensitive',
    (_, binding) => {
      const declared = declaredGetters(binding.className);
      expect(declared).toEqual(schemaGetters(binding.block, Object.keys(declared)));
    },
  );

  it.each(all.filter(([type]) => type !== 'provider'))(
    '%s: synthesizes every argument under its Terraform name, and each getter references its attribute',
    (type, binding) => {
      const stack = new TerraformStack(Testing.app(), 'bindings');
      const { config, terraform } = samples(binding.block);
      const construct = new bindings[binding.className](stack, 'it', config as never) as Record<
        string,
        unknown
      >;
      const kind = type in RESOURCE_BINDINGS ? 'resource' : 'data';
      const getters = schemaGetters(binding.block, Object.keys(declaredGetters(binding.className)));
      for (const [name, getter] of Object.entries(getters)) {
        new TerraformOutput(stack, name, { value: construct[getter.name] });
      }
      const synthesized = JSON.parse(Testing.synth(stack)) as {
        resource?: Record<string, Record<string, object>>;
        data?: Record<string, Record<string, object>>;
        output: Record<string, { value: string }>;
      };
      expect(synthesized[kind]![type]!.it).toEqual(terraform);
      const prefix = kind === 'data' ? 'data.' : '';
      expect(mapValues(synthesized.output, (output) => output.value)).toEqual(
        mapValues(getters, (_, name) => `\${${prefix}${type}.it.${name}}`),
      );
    },
  );

  it('provider: synthesizes every argument and database block under its Terraform name', () => {
    const stack = new TerraformStack(new App({ outdir: Testing.app().outdir }), 'bindings');
    const { config, terraform } = samples(PROVIDER_BINDING.block);
    new bindings.PgcredProvider(stack, 'pgcred', config as never);
    const synthesized = JSON.parse(Testing.synth(stack)) as { provider: { pgcred: object[] } };
    expect(synthesized.provider.pgcred).toEqual([terraform]);
  });
});
