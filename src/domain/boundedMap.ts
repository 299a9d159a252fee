// A process-local cache of things that never change once read (a certificate's registration, a
// parsed signing key) whose keys come from outside: it forgets everything at once when a new key
// would pass its bound. That costs one miss per entry afterwards, and keeps the memory bounded
// whatever arrives, without the bookkeeping of an LRU, which none of its users needs: each
// holds the few keys a deployment has, and the bound is only met by something abnormal.
import { assert } from '../errors';

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly max: number) {
    assert(Number.isInteger(max) && max >= 1, `a bound of at least one entry (${max})`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (!this.entries.has(key) && this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
