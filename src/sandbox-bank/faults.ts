// Fault injection. Every decision comes from a seeded PRNG so that a fault campaign repeats
// exactly with the same seed and the same sequence of requests. Each kind of fault draws from
// its own stream (derived from the seed and the kind's name), so that turning one fault on
// does not shift the decisions of another.
import { seededRandom } from '../domain/random';
import { SandboxError } from './errors';

export interface FaultSettings {
  seed: number;
  /** Share of payment instructions (pain.001 / cn-h2h) rejected MS03 at settlement. */
  rejectRate: number;
  /** Share of payment submissions accepted and recorded but answered only after timeoutHangMs. */
  timeoutRate: number;
  /** Share of payment instructions whose final status is reported as pending for lostStatusMs. */
  lostStatusRate: number;
  /** Share of credit notifications pushed twice (same message id, same body). */
  duplicateNoticeRate: number;
  /** Every credit notification is first sent this long after the booking. */
  noticeDelayMs: number;
  /** Share of requests to the bank protocol endpoints answered 500 without acting. */
  http500Rate: number;
  /** Share of payment instructions acknowledged on receipt but held in the bank's queue for
   *  lateArrivalMs: no record of them for a status inquiry, and unsettled, until then. */
  lateArrivalRate: number;
  lateArrivalMs: number;
}

export const faultKinds = ['reject', 'timeout', 'lostStatus', 'duplicateNotice', 'http500', 'lateArrival'] as const;
export type FaultKind = (typeof faultKinds)[number];

const rateFields = ['rejectRate', 'timeoutRate', 'lostStatusRate', 'duplicateNoticeRate', 'http500Rate', 'lateArrivalRate'] as const;
const rateOf: Record<FaultKind, (typeof rateFields)[number]> = {
  reject: 'rejectRate',
  timeout: 'timeoutRate',
  lostStatus: 'lostStatusRate',
  duplicateNotice: 'duplicateNoticeRate',
  http500: 'http500Rate',
  lateArrival: 'lateArrivalRate',
};

/** A notification held back longer than this is a different test (an outage), not a delay. */
export const noticeDelayMsMax = 10 * 60_000;
/** A bank's queue that holds an instruction longer than an hour is an outage, not a late
 *  arrival; a campaign that needs one stops the simulator instead. */
export const lateArrivalMsMax = 60 * 60_000;
export const faultSeedMax = 2 ** 32 - 1;

export const noFaults: FaultSettings = Object.freeze({
  seed: 0,
  rejectRate: 0,
  timeoutRate: 0,
  lostStatusRate: 0,
  duplicateNoticeRate: 0,
  noticeDelayMs: 0,
  http500Rate: 0,
  lateArrivalRate: 0,
  lateArrivalMs: 0,
});

/** Checks a POST /sandbox/faults body. Fields left out are zero: a POST states the whole
 *  fault plan, so a campaign never inherits a rate set by an earlier one. */
export function parseFaultSettings(body: unknown): FaultSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SandboxError(400, 'invalid_request', 'fault settings must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const known = new Set<string>(['seed', 'noticeDelayMs', 'lateArrivalMs', ...rateFields]);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new SandboxError(400, 'invalid_request', `unknown fault setting ${JSON.stringify(key)}`, key);
  }
  const settings: FaultSettings = { ...noFaults };
  const seed = input.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > faultSeedMax) {
    throw new SandboxError(400, 'invalid_request', `seed must be an integer from 0 to ${faultSeedMax}`, 'seed');
  }
  settings.seed = seed;
  for (const field of rateFields) {
    const value = input[field] ?? 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new SandboxError(400, 'invalid_request', `${field} must be a number from 0 to 1`, field);
    }
    settings[field] = value;
  }
  const delay = input.noticeDelayMs ?? 0;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > noticeDelayMsMax) {
    throw new SandboxError(400, 'invalid_request', `noticeDelayMs must be an integer from 0 to ${noticeDelayMsMax}`, 'noticeDelayMs');
  }
  settings.noticeDelayMs = delay;
  const late = input.lateArrivalMs ?? 0;
  if (typeof late !== 'number' || !Number.isInteger(late) || late < 0 || late > lateArrivalMsMax) {
    throw new SandboxError(400, 'invalid_request', `lateArrivalMs must be an integer from 0 to ${lateArrivalMsMax}`, 'lateArrivalMs');
  }
  settings.lateArrivalMs = late;
  return settings;
}

/** FNV-1a over the text: turns (seed, kind) into a 32-bit starting state. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class FaultInjector {
  private current: FaultSettings = noFaults;
  private streams = new Map<FaultKind, () => number>();

  constructor(settings: FaultSettings = noFaults) {
    this.set(settings);
  }

  get settings(): FaultSettings {
    return { ...this.current };
  }

  /** New settings restart every stream from the seed, so the same POST starts the same run. */
  set(settings: FaultSettings): void {
    this.current = { ...settings };
    this.streams.clear();
    for (const kind of faultKinds) this.streams.set(kind, seededRandom(hash32(`${settings.seed}:${kind}`)));
  }

  /** True when this occurrence is hit by the fault. A zero rate draws nothing, so a campaign
   *  that leaves a fault off sees the same decisions for the others. */
  roll(kind: FaultKind): boolean {
    const rate = this.current[rateOf[kind]];
    if (rate <= 0) return false;
    const draw = this.streams.get(kind)!();
    return draw < rate;
  }

  get noticeDelayMs(): number {
    return this.current.noticeDelayMs;
  }

  get lateArrivalMs(): number {
    return this.current.lateArrivalMs;
  }
}

/** The settings as GET/POST /sandbox/faults answer them (rates are shares, not money). */
export function faultSettingsJson(settings: FaultSettings): FaultSettings {
  return { ...settings };
}
