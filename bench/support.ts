// Random but valid identifiers and percentiles shared by the benchmarks' set-ups and reports.
import { randomInt } from 'node:crypto';
import { iso7064Mod1110CheckDigit } from '../src/domain/bankCode';

/** n random digits, the first not zero (account numbers, prefixes). */
export const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');

/** A CNAPS bank code of the given category with its check digit. */
export const cnaps = (cat: string) => {
  const s = `${cat}1000${digits(4)}`;
  return s + iso7064Mod1110CheckDigit(s);
};

/** The p-th percentile of the samples (nearest rank). */
export const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Starts the V8 profiler in this process; the returned function stops it and gives the profile. */
export async function startProfile(): Promise<() => Promise<object>> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}
