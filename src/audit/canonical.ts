// Canonical JSON: keys sorted at every depth, so that the same event always hashes the same
// however it was built or read back from jsonb (which reorders keys). Written as loops over
// sorted keys: a roster or a statement report of thousands of lines goes through here twice
// in the transaction that records it.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `<` does on strings.
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** Makes a value storable as jsonb: bigints become decimal strings, Dates ISO strings; the
 *  value `JSON.parse(canonicalJson(value))` would give, without writing and reading it. */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (value === undefined) return null;
    if (typeof value === 'number') return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    if (typeof value === 'function' || typeof value === 'symbol') return JSON.parse(canonicalJson(value));
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonSafe);
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(object).sort()) {
    const v = object[k];
    if (v === undefined) continue;
    // A key named __proto__ is an own property in JSON.parse's result, not the prototype;
    // every other key is assigned (defining each one turned the objects into slow dictionaries).
    if (k === '__proto__') Object.defineProperty(out, k, { value: toJsonSafe(v), enumerable: true, writable: true, configurable: true });
    else out[k] = toJsonSafe(v);
  }
  return out;
}
