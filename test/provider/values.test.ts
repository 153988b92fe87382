import { encode } from '@msgpack/msgpack';
import { CREDENTIAL_SCHEMA } from '../../src/provider/schema';
import { decodeDynamic, encodeDynamic, schemaMessage, UNKNOWN } from '../../src/provider/values';

describe('DynamicValue encoding', () => {
  it('writes an unknown as msgpack extension 0 with one zero byte (d4 00 00), as Terraform does', () => {
    const { msgpack } = encodeDynamic(
      { id: UNKNOWN },
      { attributes: { id: { type: 'string', description: '' } } },
    );
    // fixmap of 1: "id" -> d4 00 00
    expect(msgpack.toString('hex')).toBe(`81a26964${'d40000'}`);
  });

  it('reads any extension as unknown, including the refined unknown (code 12)', () => {
    const refined = Buffer.concat([
      Buffer.from('81a26964', 'hex'),
      Buffer.from([0xc7, 0x02, 0x0c, 0x01, 0xc3]),
    ]);
    expect(decodeDynamic({ msgpack: refined })).toEqual({ id: UNKNOWN });
  });

  it('sends every attribute of the schema, null when absent, and list blocks as lists', () => {
    const { msgpack } = encodeDynamic(
      { name: 'analyst', grant: [{ on: 'database', privileges: ['CONNECT'] }] },
      CREDENTIAL_SCHEMA.block,
    );
    const decoded = decodeDynamic({ msgpack }) as Record<string, unknown>;
    expect(Object.keys(decoded).sort()).toEqual(
      [
        'database',
        'drift',
        'grant',
        'id',
        'name',
        'permission',
        'rotation',
        'rotation_trigger',
        'state',
        'username',
      ].sort(),
    );
    expect(decoded.permission).toBeNull();
    expect(decoded.rotation).toBeNull();
    expect(decoded.grant).toEqual([{ on: 'database', privileges: ['CONNECT'], objects: null }]);
  });

  it('reads a null object (a create prior state) as null, and JSON state as JSON', () => {
    expect(decodeDynamic({ msgpack: Buffer.from(encode(null)) })).toBeNull();
    expect(decodeDynamic({ json: Buffer.from('{"name":"analyst"}') })).toEqual({ name: 'analyst' });
  });

  it('gives attribute types as JSON bytes', () => {
    const message = schemaMessage(CREDENTIAL_SCHEMA) as {
      block: { attributes: { name: string; type: Buffer }[] };
    };
    const types = Object.fromEntries(message.block.attributes.map((a) => [a.name, a.type.toString()]));
    expect(types.name).toBe('"string"');
    expect(types.drift).toBe('["list","string"]');
  });
});
