import fc from 'fast-check';
import { jsonParam } from '../../../src/db/statements';
import { canonicalJson, toJsonSafe } from '../../../src/audit/canonical';

/** Values as rows carry them: amounts as bigints at any depth, dates, text, nulls. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.bigInt(), fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true })),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 })),
})).node;

describe('jsonParam', () => {
  it('writes what JSON.stringify with a bigint replacer writes, for rows and anything else', () => {
    const reference = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    fc.assert(
      fc.property(fc.oneof(value, fc.array(fc.dictionary(fc.string(), value, { maxKeys: 6 }), { maxLength: 5 })), (v) => {
        expect(jsonParam(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
  });
});

describe('toJsonSafe', () => {
  it('keeps a key named __proto__ as a key, and every other key as it was', () => {
    const parsed = JSON.parse('{"__proto__":{"isAdmin":true},"constructor":1,"b":2n}'.replace('2n', '"2"'));
    const safe = toJsonSafe(parsed) as Record<string, unknown>;
    expect(Object.keys(safe)).toEqual(['__proto__', 'b', 'constructor']);
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect(canonicalJson(safe)).toBe('{"__proto__":{"isAdmin":true},"b":"2","constructor":1}');
  });
});
