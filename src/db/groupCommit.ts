// Group commit. In a rush (a bid deadline: hundreds of bidders paying, dozens of guarantees
// issued in the last minutes) every signed call from a bank or an issuer is a unit of work of a
// few rows. Each in a transaction of its own pays BEGIN, its statements and COMMIT (and the audit
// chain's lock), and on a virtual machine each statement's round trip costs the service more CPU
// in its socket write than in anything it computes. Here a unit of work that arrives while
// another of its kind is being committed waits for it, and is then committed together with
// whatever else arrived meanwhile: one transaction, in arrival order, each unit keeping its own
// claim, answer and audit events. A unit that finds nothing in progress is committed at once, so
// a quiet sender waits for nothing; the busier the rush, the larger the groups. While a group
// commits, a second one starts only once enough units wait to make it as large as a rush's
// groups are: the two then share the database's time instead of one waiting for the other,
// without splitting the rush into groups of one.
//
// A group is all or nothing, like any transaction. When one fails, each of its units is
// committed again alone, so that one unit's error is its own answer and no other's.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import { recordedJobs } from '../queue/outbox';
import { transactionRetried } from './retry';

/** What one unit of work came to: its value, or the error to answer it with. An error here is
 *  a unit's own answer (a replay refused); an error thrown by `act` fails the whole group. */
export type UnitOutcome<R> = { value: R } | { error: unknown };

export interface GroupCommitSpec<U, R> {
  /** Names the work in logs and metrics. */
  work: string;
  /** Units committed in one transaction at most: bounds what one failure sends back to be
   *  committed alone. */
  unitsMax: number;
  /** Groups in their transactions at once (`groupsInFlightMax` unless said). */
  inFlightMax?: number;
  /** Units with the same group key may share a transaction. */
  groupKey(unit: U): string;
  /** Readies a group's units before its transaction, once per unit (an error is that unit's
   *  answer). */
  prepare?(db: Knex, units: U[]): Promise<UnitOutcome<U>[]>;
  /** Units of one group have distinct keys; a second one with the same key (the same message
   *  sent twice at once) waits for the next group, where it finds the first one's answer. */
  unitKey(unit: U): string;
  /** The group's work in its transaction, one outcome per unit, in order. */
  act(tx: Knex.Transaction, units: U[]): Promise<UnitOutcome<R>[]>;
  /** After commit, per unit committed (counters that must not count an aborted attempt). */
  committed?(unit: U, result: R): void;
}

export interface GroupCommitDeps {
  db: Knex;
  outbox: { kick(): void };
  metrics: {
    /** Units per committed group, by work. */
    groupCommitSize: Histogram<'work'>;
    transactionsRetried: { inc(labels: { route: string }): void };
  };
}

/** Groups of one kind in their transactions at once, unless its spec says otherwise. A group's
 *  transaction is a chain of round trips, each waiting on PostgreSQL and then on the event loop;
 *  a second chain fills those waits. More than two left no waits to fill on a two-core machine. */
export const groupsInFlightMax = 2;

/** Units that must be waiting before a group starts beside one in flight. With eight senders
 *  at once (bench/notifications.ts, bench/issuance.ts), a group that started as soon as anything
 *  waited was one or two notices: 2.4 statements per credit instead of 1.8, and no faster than
 *  one group at a time. From four waiting, the groups stay as large as one at a time makes them
 *  and the rate rose: credits +13% and +20% (two runs of alternating passes, one process),
 *  issuances +7%; six, or three groups in flight, did less well. */
export const overlapGroupUnitsMin = 4;

/** What brought a unit (a request's deps): its `log` carries the request, and is read only when
 *  a line is written, so that a request's child logger is made only then. */
export interface UnitSource {
  readonly log: Logger;
}

interface Waiting<U, R> {
  unit: U;
  source: UnitSource;
  prepared: boolean;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<U, R> {
  private waiting: Waiting<U, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly deps: GroupCommitDeps,
    private readonly spec: GroupCommitSpec<U, R>,
  ) {}

  /** Commits `unit` with whatever else of its group key is waiting; resolves once committed. */
  submit(unit: U, source: UnitSource): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ unit, source, prepared: false, resolve, reject });
      this.startGroups();
    });
  }

  private startGroups(): void {
    while (this.waiting.length > 0 && this.mayStartGroup()) {
      const group = this.takeGroup();
      this.inFlight += 1;
      void this.prepare(group)
        .then((ready) => this.commit(ready))
        .finally(() => {
          this.inFlight -= 1;
          this.startGroups();
        });
    }
  }

  /** Whether the next group may start now: at once when none is in its transaction, beside one
   *  only when it would be at least `overlapGroupUnitsMin` units. */
  private mayStartGroup(): boolean {
    if (this.inFlight === 0) return true;
    if (this.inFlight >= (this.spec.inFlightMax ?? groupsInFlightMax)) return false;
    const key = this.spec.groupKey(this.waiting[0].unit);
    let units = 0;
    for (const w of this.waiting) if (this.spec.groupKey(w.unit) === key && ++units >= overlapGroupUnitsMin) return true;
    return false;
  }

  /** The oldest waiting unit and those after it with its group key, in arrival order. */
  private takeGroup(): Waiting<U, R>[] {
    const key = this.spec.groupKey(this.waiting[0].unit);
    const group: Waiting<U, R>[] = [];
    const rest: Waiting<U, R>[] = [];
    for (const w of this.waiting) {
      if (group.length < this.spec.unitsMax && this.spec.groupKey(w.unit) === key) group.push(w);
      else rest.push(w);
    }
    this.waiting = rest;
    return group;
  }

  private async prepare(group: Waiting<U, R>[]): Promise<Waiting<U, R>[]> {
    const fresh = group.filter((w) => !w.prepared);
    const refused = new Set<Waiting<U, R>>();
    if (this.spec.prepare && fresh.length > 0) {
      let outcomes: UnitOutcome<U>[];
      try {
        outcomes = await this.spec.prepare(this.deps.db, fresh.map((w) => w.unit));
      } catch (err) {
        for (const w of group) w.reject(err);
        return [];
      }
      for (const [i, w] of fresh.entries()) {
        const o = outcomes[i];
        if ('error' in o) {
          w.reject(o.error);
          refused.add(w);
        } else {
          w.unit = o.value;
        }
      }
    }
    const ready: Waiting<U, R>[] = [];
    const later: Waiting<U, R>[] = [];
    const keys = new Set<string>();
    for (const w of group) {
      if (refused.has(w)) continue;
      w.prepared = true;
      const key = this.spec.unitKey(w.unit);
      if (keys.has(key)) later.push(w);
      else {
        keys.add(key);
        ready.push(w);
      }
    }
    this.waiting.unshift(...later);
    return ready;
  }

  private async commit(group: Waiting<U, R>[]): Promise<void> {
    if (group.length === 0) return;
    let outcomes: UnitOutcome<R>[];
    let jobs = false;
    try {
      outcomes = await transactionRetried(
        this.deps.db,
        async (tx) => {
          const o = await this.spec.act(tx, group.map((w) => w.unit));
          jobs = recordedJobs(tx);
          return o;
        },
        (err, attempt) => {
          this.deps.metrics.transactionsRetried.inc({ route: this.spec.work });
          group[0].source.log.warn({ err, attempt, units: group.length, work: this.spec.work }, 'transaction aborted by the database; running it again');
        },
      );
    } catch (err) {
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      group[0].source.log.warn({ err, units: group.length, work: this.spec.work }, 'a group failed; committing each of its units alone');
      await Promise.all(group.map((w) => this.commit([w])));
      return;
    }
    if (jobs) this.deps.outbox.kick();
    this.deps.metrics.groupCommitSize.observe({ work: this.spec.work }, group.length);
    for (const [i, w] of group.entries()) {
      const o = outcomes[i];
      if ('error' in o) {
        w.reject(o.error);
        continue;
      }
      this.spec.committed?.(w.unit, o.value);
      w.resolve(o.value);
    }
  }
}

// One committer per kind of work and database handle, which is one per process (the runtime's).
const committers = new WeakMap<Knex, Map<string, GroupCommitter<any, any>>>();

/** The process's committer of `work` on `deps.db`, made on first use. */
export function groupCommitterOf<U, R>(deps: GroupCommitDeps, work: string, spec: () => GroupCommitSpec<U, R>): GroupCommitter<U, R> {
  let byWork = committers.get(deps.db);
  if (!byWork) committers.set(deps.db, (byWork = new Map()));
  let c = byWork.get(work);
  if (!c) byWork.set(work, (c = new GroupCommitter(deps, spec())));
  return c;
}
