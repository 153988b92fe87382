import { decode, ExtData, ExtensionCodec, encode } from '@msgpack/msgpack';

/**
 * Terraform values as the plugin protocol carries them (DynamicValue): msgpack
 * objects with every attribute of the schema present (nil for null), and unknown
 * values as msgpack extensions. Terraform writes a plain unknown as extension 0 and
 * a refined unknown (`"prefix-${x}"`) as extension 12: any extension reads as unknown.
 */
export const UNKNOWN: unique symbol = Symbol('unknown');

export type Value = null | string | number | boolean | typeof UNKNOWN | Value[] | ObjectValue;
export interface ObjectValue {
  [name: string]: Value;
}

export type TypeSpec = 'string' | 'bool' | 'number' | readonly ['list', TypeSpec];

export interface AttributeSpec {
  readonly type: TypeSpec;
  /** One line, shown by `terraform providers schema` and editors. */
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
}

export interface BlockSpec {
  readonly description?: string;
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  readonly blocks?: Readonly<Record<string, NestedBlockSpec>>;
}

export interface NestedBlockSpec {
  readonly nesting: 'single' | 'list';
  readonly block: BlockSpec;
  readonly minItems?: number;
  readonly maxItems?: number;
}

export interface SchemaSpec {
  readonly version: number;
  readonly block: BlockSpec;
}

const NESTING = { single: 1, list: 2 } as const;

/** The protocol's Schema message (field names as in tfplugin6.proto). */
export function schemaMessage(spec: SchemaSpec): object {
  return { version: spec.version, block: blockMessage(spec.block) };
}

function blockMessage(block: BlockSpec): object {
  return {
    version: 0,
    description: block.description ?? '',
    attributes: Object.entries(block.attributes).map(([name, a]) => ({
      name,
      // Types are JSON, sent as bytes: `"string"` with its quotes, `["list","string"]`.
      type: Buffer.from(JSON.stringify(a.type)),
      description: a.description,
      required: a.required ?? false,
      optional: a.optional ?? false,
      computed: a.computed ?? false,
      sensitive: a.sensitive ?? false,
    })),
    block_types: Object.entries(block.blocks ?? {}).map(([name, b]) => ({
      type_name: name,
      block: blockMessage(b.block),
      nesting: NESTING[b.nesting],
      min_items: b.minItems ?? 0,
      max_items: b.maxItems ?? 0,
    })),
  };
}

const codec = new ExtensionCodec();
codec.register({
  type: 0,
  // A one-byte payload makes it fixext 1: d4 00 00, as Terraform writes it.
  encode: (input: unknown) => (input === UNKNOWN ? Uint8Array.of(0) : null),
  decode: () => UNKNOWN,
});

export interface DynamicValueMessage {
  readonly msgpack?: Uint8Array | null;
  readonly json?: Uint8Array | null;
}

/** Decodes a DynamicValue; null for a null object (a create's prior state, a destroy's new state). */
export function decodeDynamic(message: DynamicValueMessage | null | undefined): Value {
  if (message?.msgpack && message.msgpack.length > 0) {
    return unknownsOf(decode(message.msgpack, { extensionCodec: codec }));
  }
  if (message?.json && message.json.length > 0) return JSON.parse(Buffer.from(message.json).toString('utf8'));
  return null;
}

function unknownsOf(value: unknown): Value {
  if (value instanceof ExtData) return UNKNOWN;
  if (Array.isArray(value)) return value.map(unknownsOf);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: ObjectValue = {};
    for (const [key, item] of Object.entries(value)) out[key] = unknownsOf(item);
    return out;
  }
  return value as Value;
}

/** Encodes an object of `block`, every attribute present, as a DynamicValue. */
export function encodeDynamic(value: ObjectValue | null, block: BlockSpec): { msgpack: Buffer } {
  const normalized = value === null ? null : normalize(block, value);
  const bytes = encode(normalized, { extensionCodec: codec });
  return { msgpack: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * The object with exactly the schema's attributes and blocks: missing attributes
 * become null, missing list blocks an empty list, and unknown keys are dropped
 * (state written by an older schema).
 */
export function normalize(block: BlockSpec, value: ObjectValue): ObjectValue {
  const out: ObjectValue = {};
  for (const name of Object.keys(block.attributes)) out[name] = value[name] ?? null;
  for (const [name, nested] of Object.entries(block.blocks ?? {})) {
    const item = value[name] ?? null;
    if (item === UNKNOWN) out[name] = UNKNOWN;
    else if (nested.nesting === 'single')
      out[name] = item === null ? null : normalize(nested.block, item as ObjectValue);
    else out[name] = ((item as Value[] | null) ?? []).map((v) => normalize(nested.block, v as ObjectValue));
  }
  return out;
}

/** True when nothing in the value is unknown. */
export function isWhollyKnown(value: Value): boolean {
  if (value === UNKNOWN) return false;
  if (Array.isArray(value)) return value.every(isWhollyKnown);
  if (value !== null && typeof value === 'object') return Object.values(value).every(isWhollyKnown);
  return true;
}

export function stringOf(value: Value | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function stringsOf(value: Value | undefined): string[] | undefined {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
  return value as string[];
}

/** Deep equality of two values (unknown equals only unknown). */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]))
    );
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => sameValue(a[key], b[key]));
  }
  return false;
}
