import { BoundedMap } from '../../../src/domain/boundedMap';

describe('a bounded cache', () => {
  it('keeps up to its bound, and forgets everything when a new key would pass it', () => {
    const m = new BoundedMap<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c'].entries()) m.set(k, i);
    expect([m.size, m.get('a'), m.get('c')]).toEqual([3, 0, 2]);
    m.set('d', 3);
    expect([m.size, m.get('a'), m.get('c'), m.get('d')]).toEqual([1, undefined, undefined, 3]);
  });

  it('replaces a value it holds without forgetting the others, even when full', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 10);
    expect([m.size, m.get('a'), m.get('b')]).toEqual([2, 10, 2]);
    m.delete('b');
    m.set('c', 3);
    expect([m.size, m.get('a'), m.get('c')]).toEqual([2, 10, 3]);
  });

  it('never holds more than its bound, whatever arrives', () => {
    const m = new BoundedMap<number, number>(1000);
    let largest = 0;
    for (let i = 0; i < 10_000; i++) {
      m.set(i, i);
      largest = Math.max(largest, m.size);
    }
    expect(largest).toBe(1000);
  });

  it('refuses a bound below one entry', () => {
    expect(() => new BoundedMap(0)).toThrow(/bound of at least one entry/);
    expect(() => new BoundedMap(1.5)).toThrow(/bound of at least one entry/);
  });
});
