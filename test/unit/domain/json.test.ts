import fc from 'fast-check';
import { parseJsonStrict, RepeatedJsonKey } from '../../../src/domain/json';

describe('parseJsonStrict', () => {
  it('reads what JSON.parse reads when no object repeats a key, however the text is written', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(parseJsonStrict(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any object, at any depth, that names a key twice, and says where', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.jsonValue(), (inner, key, other) => {
        const member = `${JSON.stringify(key)}:${JSON.stringify(other)}`;
        const text = JSON.stringify({ entries: [inner, { x: 1 }] }).replace('{"x":1}', () => `{${member},"x":1,${member}}`);
        expect(() => parseJsonStrict(text)).toThrow(RepeatedJsonKey);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['{"amount":"1.00","amount":"50000.00"}', '$.amount'],
    ['{"entries":[{"a":1},{"a":1,"b":{"c":"}","c":"{"}}]}', '$.entries[1].b.c'],
    ['{"a\\u0062":1,"ab":2}', '$.ab'],
    ['{"\\"":1,"\\"":2}', '$["\\""]'],
    ['[[1,2],{"k":[{"z":0}],"k":3}]', '$[1].k'],
  ])('%s is refused at %s', (text, path) => {
    expect(() => parseJsonStrict(text)).toThrow(new RepeatedJsonKey(path));
  });

  it.each([['{"a":{"a":{"a":1}}}'], ['[{"a":1},{"a":2}]'], ['{"a\\\\":1,"a":2}'], ['"{\\"a\\":1,\\"a\\":2}"']])('%s names no key twice in one object', (text) => {
    expect(parseJsonStrict(text)).toEqual(JSON.parse(text));
  });

  it('leaves what is not JSON to JSON.parse', () => {
    expect(() => parseJsonStrict('{"a":')).toThrow(SyntaxError);
  });
});
