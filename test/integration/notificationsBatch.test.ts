// A bank's large notification: acknowledged at once with its receipt, kept, and worked through by
// the deposits queue in batches, each entry once and in booking order, judged by its booking
// time (R3) and, for a date-only booking, by when the notice arrived; its outcome readable by
// the bank itself, the centre and the auditor. The job is run here as the worker runs it
// (processStoredNotification), so a test can stop it between batches or run it twice at once.
import request from 'supertest';
import type { Express } from 'express';
import { buildCamt054 } from '../../src/banks/iso20022/camt054';
import type { CreditEntry } from '../../src/banks/types';
import { notificationInlineEntriesMax } from '../../src/deposits/notifications';
import { processStoredNotification } from '../../src/deposits/notificationJobs';
import { signMessage, signatureCheckOnLoopBytesMax } from '../../src/pki/messageSignature';
import type { Runtime } from '../../src/runtime';
import { DepositWorld, randomDigits, type Bank } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';
import { businessDate } from '../../src/domain/time';

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let w: DepositWorld;

beforeAll(async () => {
  // Its own database and queue prefix: no worker of another file may run these jobs, so each
  // test decides when a batch runs.
  isolated = await createIsolatedDatabase('notifications_batch');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
});
afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

type Payer = { id: string; account: { number: string; name: string; bankCode: string } };

let refSeq = 0;
function credit(virtualAccount: string, amountFen: bigint, payer: Payer['account'], bookedAt: Date, opts: { dateOnly?: boolean } = {}): CreditEntry {
  refSeq += 1;
  return {
    entryRef: `B${randomDigits(10)}${refSeq}`,
    virtualAccount,
    amountFen,
    currency: 'CNY',
    bookedAt: bookedAt.toISOString(),
    bookingDateOnly: opts.dateOnly,
    valueDate: businessDate(bookedAt),
    debtor: { name: payer.name, accountNumber: payer.number, bankCode: payer.bankCode },
    remittance: '投标保证金',
  };
}

/** Entries for accounts that are not this bank's: read and counted as ignored, enough of them
 *  that the notification is too large to act on at once. */
const strangers = (n: number): CreditEntry[] =>
  Array.from({ length: n }, () => credit(`88${randomDigits(14)}`, 100n, { number: `62${randomDigits(17)}`, name: '他行客户', bankCode: '102100099996' }, new Date(Date.now() - 60_000)));

function camt(bank: Bank, trustAccount: string, credits: CreditEntry[], messageId = `M${randomDigits(12)}`) {
  return { messageId, body: Buffer.from(buildCamt054({ messageId, createdAt: new Date(), account: trustAccount, credits }), 'utf8') };
}

async function trustAccountOf(bank: Bank): Promise<string> {
  return (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number;
}

async function sectionWithBidders(bank: Bank, n: number, opts: { deadline?: Date } = {}) {
  const section = await w.section(bank.id);
  if (opts.deadline) await rt.db('sections').where({ id: section.id }).update({ bid_deadline: opts.deadline });
  const bidders: (Payer & { virtual: string })[] = [];
  for (let i = 0; i < n; i++) {
    const b = await w.bidder();
    bidders.push({ ...b, virtual: await w.virtualAccount(section.id, b.id) });
  }
  return { section, bidders };
}

const outcome = (bank: Bank, messageId: string, auth: Record<string, string>, query = '') =>
  request(app).get(`/v1/banks/${bank.id}/notifications/${messageId}${query}`).set(auth);

const signedGet = (bank: Bank, signer: Bank['signer'], messageId: string) =>
  request(app).get(`/v1/banks/${bank.id}/notifications/${messageId}`).set(signMessage(Buffer.alloc(0), { keyPem: signer.keyPem, fingerprint: signer.fingerprint }));

const depositsOfMessage = (bank: Bank, messageId: string) =>
  rt.db('deposits').join('credits', 'credits.id', 'deposits.credit_id').where({ 'credits.bank_id': bank.id, 'credits.message_id': messageId }).select('deposits.*', 'credits.entry_ref');

describe('a notification too large to answer at once', () => {
  it('is refused whole when a byte of it changed after it was signed, though its signature is checked off the event loop', async () => {
    const bank = await w.bank();
    const { bidders } = await sectionWithBidders(bank, 1);
    const booked = new Date(Date.now() - 3600e3);
    let credits = [credit(bidders[0].virtual, 5_000_000n, bidders[0].account, booked), ...strangers(notificationInlineEntriesMax)];
    let file = camt(bank, await trustAccountOf(bank), credits);
    while (file.body.length <= signatureCheckOnLoopBytesMax) {
      credits = [...credits, ...strangers(10)];
      file = camt(bank, await trustAccountOf(bank), credits, file.messageId);
    }
    const { messageId, body } = file;
    const signed = signMessage(body, { keyPem: bank.signer.keyPem, fingerprint: bank.signer.fingerprint });
    // The first credit's amount, ¥50,000.00, made ¥90,000.00.
    const changed = Buffer.from(body.toString('utf8').replace('>50000.00<', '>90000.00<'), 'utf8');
    expect(changed.equals(body)).toBe(false);
    const post = (raw: Buffer) => request(app).post(`/v1/banks/${bank.id}/notifications`).set(signed).set('Content-Type', 'application/xml').send(raw);

    const refused = await post(changed);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'signature_invalid' });
    expect((await outcome(bank, messageId, bearer(w.centre))).status).toBe(404);
    expect(await rt.db('credits').where({ bank_id: bank.id, message_id: messageId })).toHaveLength(0);

    const accepted = await post(body);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ object: 'notification_receipt', messageId, status: 'processing', entries: credits.length });
  });

  it('is acknowledged with its receipt, answered the same receipt again, worked through in batches, and its outcome read by the bank, the centre and the auditor only', async () => {
    const bank = await w.bank();
    const { section, bidders } = await sectionWithBidders(bank, 3);
    const booked = new Date(Date.now() - 3600e3);
    const credits = [...bidders.map((b) => credit(b.virtual, 5_000_000n, b.account, booked)), credit(`${bank.prefix}99999999`, 1_000n, bidders[0].account, booked), ...strangers(notificationInlineEntriesMax)];
    const { messageId, body } = camt(bank, await trustAccountOf(bank), credits);

    const res = await w.notify(bank, body, 'application/xml');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ object: 'notification_receipt', messageId, status: 'processing', entries: credits.length });
    const again = await w.notify(bank, body, 'application/xml');
    expect([again.status, again.body, again.headers['idempotent-replayed']]).toEqual([202, res.body, 'true']);

    const before = await outcome(bank, messageId, bearer(w.centre));
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ object: 'notification_outcome', status: 'processing', entries: credits.length, entriesDone: 0, accepted: 0, depositIds: [], completedAt: null });

    expect(await processStoredNotification(rt, bank.id, messageId, { batchEntries: 20, batchesMax: 1 })).toEqual({ status: 'processing', batches: 1 });
    expect((await outcome(bank, messageId, bearer(w.centre))).body).toMatchObject({ status: 'processing', entriesDone: 20 });
    expect(await processStoredNotification(rt, bank.id, messageId, { batchEntries: 20 })).toEqual({ status: 'done', batches: 2 });

    const done = await outcome(bank, messageId, bearer(w.centre));
    expect(done.body).toMatchObject({ status: 'done', entries: credits.length, entriesDone: credits.length, accepted: 4, duplicates: 0, ignored: notificationInlineEntriesMax, ignoredReasons: { notOurAccount: notificationInlineEntriesMax }, reversals: 0, exceptions: 0, hasMore: false });
    expect(done.body.depositIds).toHaveLength(4);
    expect(Date.parse(done.body.completedAt)).toBeGreaterThanOrEqual(Date.parse(done.body.receivedAt));
    const deposits = await depositsOfMessage(bank, messageId);
    expect(deposits.map((d) => d.status).sort()).toEqual(['suspense', 'valid', 'valid', 'valid']);
    expect(deposits.filter((d) => d.status === 'valid').map((d) => d.section_id)).toEqual([section.id, section.id, section.id]);
    // Each valid deposit has its receipt requested and audited, as one notified alone would.
    expect(await rt.db('vouchers').whereIn('subject_id', deposits.map((d) => d.id)).where({ kind: 'deposit_receipt' })).toHaveLength(3);
    expect(await rt.db('audit_events').whereIn('entity_id', deposits.map((d) => d.id)).whereIn('action', ['deposit.valid', 'deposit.suspense'])).toHaveLength(4);
    expect(await rt.db('audit_events').where({ action: 'bank.notification_processed', entity_id: bank.id })).toHaveLength(1);
    await w.expectLedgerConsistent(bank.id);

    const page1 = await outcome(bank, messageId, bearer(w.centre), '?limit=3');
    expect([page1.body.depositIds.length, page1.body.hasMore]).toEqual([3, true]);
    const page2 = await outcome(bank, messageId, bearer(w.centre), `?limit=3&cursor=${page1.body.nextCursor}`);
    expect([...page1.body.depositIds, ...page2.body.depositIds].sort()).toEqual([...done.body.depositIds].sort());

    expect((await outcome(bank, messageId, bearer(await keyFor(rt, 'auditor')))).status).toBe(200);
    expect((await signedGet(bank, bank.signer, messageId)).body).toMatchObject({ status: 'done', accepted: 4 });
    const other = await w.bank();
    expect((await signedGet(bank, other.signer, messageId)).status).toBe(404);
    expect((await outcome(bank, messageId, bearer(await keyFor(rt, 'bidder', { bidderId: bidders[0].id })))).status).toBe(404);
    expect((await outcome(bank, messageId, bearer(await keyFor(rt, 'tenderee', { tendereeId: section.tendereeId })))).status).toBe(404);
    expect((await outcome(bank, 'NO-SUCH-MESSAGE', bearer(w.centre))).status).toBe(404);
    const openapi = await request(app).get('/v1/openapi.json');
    expect(Object.keys(openapi.body.paths)).toContain('/v1/banks/{id}/notifications/{messageId}');
  });

  it('books every entry once when the job runs twice at once and again after it is done', async () => {
    const bank = await w.bank();
    const { bidders } = await sectionWithBidders(bank, 4);
    const booked = new Date(Date.now() - 3600e3);
    const credits = [...bidders.flatMap((b) => [credit(b.virtual, 2_000_000n, b.account, booked), credit(b.virtual, 3_000_000n, b.account, new Date(booked.getTime() + 1000))]), ...strangers(notificationInlineEntriesMax)];
    const { messageId, body } = camt(bank, await trustAccountOf(bank), credits);
    expect((await w.notify(bank, body, 'application/xml')).status).toBe(202);

    const runs = await Promise.all([1, 2].map(() => processStoredNotification(rt, bank.id, messageId, { batchEntries: 3 })));
    expect(runs.map((r) => r.status)).toEqual(['done', 'done']);
    expect(await processStoredNotification(rt, bank.id, messageId)).toEqual({ status: 'done', batches: 0 });

    const deposits = await depositsOfMessage(bank, messageId);
    expect(deposits).toHaveLength(8);
    expect(deposits.every((d) => d.status === 'valid')).toBe(true);
    expect(await rt.db('journals').where({ kind: 'credit' }).where('ref', 'like', `${bank.id}:%`)).toHaveLength(8);
    expect(await rt.db('audit_events').whereIn('entity_id', deposits.map((d) => d.id)).where({ action: 'deposit.valid' })).toHaveLength(8);
    expect((await outcome(bank, messageId, bearer(w.centre))).body).toMatchObject({ status: 'done', accepted: 8, duplicates: 0 });
    await w.expectLedgerConsistent(bank.id);
  });

  it('resumes after the last batch committed when a worker stops between batches, and counts entries already on record as duplicates', async () => {
    const bank = await w.bank();
    const { bidders } = await sectionWithBidders(bank, 3);
    const booked = new Date(Date.now() - 3600e3);
    const mine = bidders.map((b) => credit(b.virtual, 5_000_000n, b.account, booked));
    // One of the credits was notified alone before: the large file repeats it.
    const { entryRef, virtualAccount, currency, bookedAt, valueDate, debtor, remittance } = mine[0];
    const alone = await w.notify(bank, Buffer.from(JSON.stringify({ eventId: `evt-${randomDigits(10)}`, entries: [{ entryRef, virtualAccount, amount: '50000.00', currency, bookedAt, valueDate, debtor, remittance }] })));
    expect([alone.status, alone.body.accepted]).toEqual([200, 1]);
    const { messageId, body } = camt(bank, await trustAccountOf(bank), [...mine, ...strangers(notificationInlineEntriesMax)]);
    expect((await w.notify(bank, body, 'application/xml')).status).toBe(202);

    // Stopped after two batches of two: the entries after them are untouched.
    expect(await processStoredNotification(rt, bank.id, messageId, { batchEntries: 2, batchesMax: 2 })).toEqual({ status: 'processing', batches: 2 });
    const midway = await outcome(bank, messageId, bearer(w.centre));
    expect(midway.body).toMatchObject({ status: 'processing', entriesDone: 4 });
    // A restarted worker takes larger batches: it starts where the committed progress says.
    expect((await processStoredNotification(rt, bank.id, messageId, { batchEntries: 7 })).status).toBe('done');

    const done = await outcome(bank, messageId, bearer(w.centre));
    expect(done.body).toMatchObject({ status: 'done', accepted: 2, duplicates: 1, ignored: notificationInlineEntriesMax });
    expect(await rt.db('credits').whereIn('entry_ref', mine.map((c) => c.entryRef)).where({ bank_id: bank.id })).toHaveLength(3);
    expect(await rt.db('deposits').whereIn('virtual_account', bidders.map((b) => b.virtual))).toHaveLength(3);
    await w.expectLedgerConsistent(bank.id);
  });

  describe('R4 a batch of plain credits started while the one before it is still open', () => {
    const blockedWaitMsMax = 10_000;
    /** A's file: C's top-up of a deposit C made alone (the first batch locks that deposit once it
     *  has claimed its credits), A's first part, then A's top-up and B's deposit in the second
     *  batch. While the test holds C's earlier deposit, the first batch cannot commit. */
    async function rush() {
      const bank = await w.bank();
      const { bidders } = await sectionWithBidders(bank, 3);
      const [a, b, c] = bidders;
      const booked = new Date(Date.now() - 3600e3);
      const later = (s: number) => new Date(booked.getTime() + s * 1000);
      const earlier = credit(c.virtual, 2_000_000n, c.account, booked);
      const alone = await w.notify(bank, Buffer.from(buildCamt054({ messageId: `M${randomDigits(12)}`, createdAt: new Date(), account: await trustAccountOf(bank), credits: [earlier] }), 'utf8'), 'application/xml');
      expect([alone.status, alone.body.accepted]).toEqual([200, 1]);
      const [cEarlier] = alone.body.depositIds as string[];
      const entries = { cTopUp: credit(c.virtual, 3_000_000n, c.account, later(1)), aFirst: credit(a.virtual, 2_000_000n, a.account, later(2)), aTopUp: credit(a.virtual, 3_000_000n, a.account, later(3)), bOnce: credit(b.virtual, 5_000_000n, b.account, later(4)) };
      const { messageId, body } = camt(bank, await trustAccountOf(bank), [...Object.values(entries), ...strangers(notificationInlineEntriesMax)]);
      expect((await w.notify(bank, body, 'application/xml')).status).toBe(202);
      return { bank, messageId, entries, cEarlier, c };
    }

    /** Holds `depositId` locked until `release` is called, as a long section event would. */
    async function holdDeposit(depositId: string) {
      const trx = await rt.db.transaction();
      await trx('deposits').where({ id: depositId }).forUpdate().first('id');
      const { pid } = (await trx.raw('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
      return { pid, trx, release: () => trx.commit() };
    }

    /** The session that waits for `pid`'s lock, once one does (the first batch reaches the lock
     *  a few statements after its claim). */
    async function waitingFor(pid: number): Promise<number> {
      const until = Date.now() + blockedWaitMsMax;
      for (;;) {
        const [row] = (await rt.db.raw('SELECT pid FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))', [pid])).rows as { pid: number }[];
        if (row) return row.pid;
        if (Date.now() > until) throw new Error(`no session waits for ${pid} after ${blockedWaitMsMax} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    /** The rush's four credits each booked once, all valid, and the outcome says so. */
    async function expectEachBookedOnce(bank: Bank, messageId: string, entries: CreditEntry[]) {
      const deposits = await depositsOfMessage(bank, messageId);
      expect(deposits.map((d) => d.entry_ref).sort()).toEqual(entries.map((e) => e.entryRef).sort());
      expect(deposits.every((d) => d.status === 'valid')).toBe(true);
      expect((await outcome(bank, messageId, bearer(w.centre))).body).toMatchObject({ status: 'done', accepted: entries.length, duplicates: 0 });
      await w.expectLedgerConsistent(bank.id);
    }

    /** Resolves once two transactions have sent their claim of credits. */
    function twoClaims(): Promise<void> {
      const txs = new Set<unknown>();
      return new Promise((resolve) => {
        const seen = (q: { sql: string; __knexTxId?: unknown }) => {
          if (!q.sql.includes('WITH claimed AS')) return;
          txs.add(q.__knexTxId);
          if (txs.size < 2) return;
          rt.db.off('query', seen);
          resolve();
        };
        rt.db.on('query', seen);
      });
    }

    it('claims its credits before the first commits, and a top-up in it waits for that commit and is judged after it', async () => {
      const { bank, messageId, entries, cEarlier } = await rush();
      const held = await holdDeposit(cEarlier);
      const claims = twoClaims();
      const processing = processStoredNotification(rt, bank.id, messageId, { batchEntries: 2 });
      try {
        // The second batch claims while the first is held: they overlap.
        await claims;
        await waitingFor(held.pid);
      } finally {
        await held.release();
      }
      expect((await processing).status).toBe('done');

      const byRef = new Map((await depositsOfMessage(bank, messageId)).map((d) => [d.entry_ref, d]));
      const aFirst = byRef.get(entries.aFirst.entryRef)!;
      const aTopUp = byRef.get(entries.aTopUp.entryRef)!;
      // Judged alone, A's top-up would wait as received; it saw the first part, booked in the
      // batch still open when it was claimed.
      expect([aFirst.status, aTopUp.status]).toEqual(['valid', 'valid']);
      expect(aFirst.checks.find((c: { rule: string }) => c.rule === 'R4').detail).toContain(`topped up by ${aTopUp.id}`);
      expect(byRef.get(entries.cTopUp.entryRef)!.status).toBe('valid');
      expect((await rt.db('deposits').where({ id: cEarlier }).first()).status).toBe('valid');
      expect(byRef.get(entries.bOnce.entryRef)!.status).toBe('valid');
      expect((await outcome(bank, messageId, bearer(w.centre))).body).toMatchObject({ status: 'done', accepted: 4, duplicates: 0, ignored: notificationInlineEntriesMax });
      await w.expectLedgerConsistent(bank.id);
    });

    it('goes on one batch at a time when the first is aborted for a deadlock, and books every entry once', async () => {
      const { bank, messageId, entries, cEarlier, c } = await rush();
      const held = await holdDeposit(cEarlier);
      const claims = twoClaims();
      const warned = jest.spyOn(rt.log, 'warn');
      try {
        const processing = processStoredNotification(rt, bank.id, messageId, { batchEntries: 2 });
        await claims;
        // The first batch waits for the test's lock on C's earlier deposit; the test then waits
        // for C's sub-account, which that batch holds. PostgreSQL looks for a deadlock in a
        // session that has waited deadlock_timeout (1 s) and aborts that session's transaction:
        // the first batch's, which began waiting first (the test's own look comes later). The
        // second batch, started beside it, rolls back with it.
        await held.trx.raw(`SET LOCAL deadlock_timeout = '5s'`);
        await waitingFor(held.pid);
        await held.trx('deposit_accounts').where({ virtual_account: c.virtual }).forUpdate().first('virtual_account');
        await held.release();
        expect((await processing).status).toBe('done');
        expect(warned.mock.calls.map((call) => call[1])).toContain('notification batches overlapped gave way; going on one at a time');
      } finally {
        warned.mockRestore();
        if (!held.trx.isCompleted()) await held.release();
      }
      await expectEachBookedOnce(bank, messageId, Object.values(entries));
    });

    it('rolls back with the batch before it when that one dies before its commit, and a rerun books every entry once', async () => {
      const { bank, messageId, entries, cEarlier } = await rush();
      const held = await holdDeposit(cEarlier);
      const claims = twoClaims();
      const processing = processStoredNotification(rt, bank.id, messageId, { batchEntries: 2 });
      const failed = processing.then(
        () => undefined,
        (err: unknown) => err,
      );
      try {
        await claims;
        // The first batch's connection dies while it waits for the test's lock: a crash between
        // its claim and its commit.
        await rt.db.raw('SELECT pg_terminate_backend(?)', [await waitingFor(held.pid)]);
        expect(await failed).toBeInstanceOf(Error);
      } finally {
        await held.release();
      }
      expect(await depositsOfMessage(bank, messageId)).toHaveLength(0);
      expect((await outcome(bank, messageId, bearer(w.centre))).body).toMatchObject({ status: 'processing', entriesDone: 0 });

      expect((await processStoredNotification(rt, bank.id, messageId, { batchEntries: 2 })).status).toBe('done');
      await expectEachBookedOnce(bank, messageId, Object.values(entries));
    });
  });

  it('judges entries in booking order and each by its booking time (R3), with the deadline between them and the file processed after it', async () => {
    const bank = await w.bank();
    const deadline = new Date(Date.now() + 4000);
    const { bidders } = await sectionWithBidders(bank, 2, { deadline: new Date(Date.now() + 3600e3) });
    const [a, b] = bidders;
    await rt.db('sections').where({ id: (await rt.db('deposit_accounts').where({ virtual_account: a.virtual }).first()).section_id }).update({ bid_deadline: deadline });
    // A pays in two parts before the deadline, the top-up listed first; B pays once in time and
    // once after the deadline, the late one listed first.
    const aFirst = credit(a.virtual, 2_000_000n, a.account, new Date(deadline.getTime() - 120_000));
    const aTopUp = credit(a.virtual, 3_000_000n, a.account, new Date(deadline.getTime() - 60_000));
    const bInTime = credit(b.virtual, 5_000_000n, b.account, new Date(deadline.getTime() - 30_000));
    const bLate = credit(b.virtual, 5_000_000n, b.account, new Date(deadline.getTime() + 1_000));
    const { messageId, body } = camt(bank, await trustAccountOf(bank), [aTopUp, bLate, ...strangers(notificationInlineEntriesMax), aFirst, bInTime]);
    while (Date.now() <= deadline.getTime() + 1_500) await new Promise((r) => setTimeout(r, 200));
    expect((await w.notify(bank, body, 'application/xml')).status).toBe(202);
    await processStoredNotification(rt, bank.id, messageId, { batchEntries: 1 });

    const byRef = new Map((await depositsOfMessage(bank, messageId)).map((d) => [d.entry_ref, d]));
    const first = byRef.get(aFirst.entryRef)!;
    const topUp = byRef.get(aTopUp.entryRef)!;
    expect([first.status, topUp.status]).toEqual(['valid', 'valid']);
    // The earlier booking waited as received and the later one topped it up, whatever the file's order.
    expect(first.checks.find((c: { rule: string }) => c.rule === 'R4').detail).toContain(`topped up by ${topUp.id}`);
    expect(byRef.get(bInTime.entryRef)!.status).toBe('valid');
    expect(byRef.get(bLate.entryRef)!).toMatchObject({ status: 'invalid', failed_rules: ['R3'] });
    expect(await rt.db('refunds').where({ deposit_id: byRef.get(bLate.entryRef)!.id, reason: 'invalid' })).toHaveLength(1);
    await w.expectLedgerConsistent(bank.id);
  });

  it("R3 a date-only booking on the deadline's day is bounded by when the notice arrived, not by when the batch ran", async () => {
    const bank = await w.bank();
    const deadline = new Date(Date.now() + 4000);
    const { bidders } = await sectionWithBidders(bank, 1);
    await rt.db('sections').where({ id: (await rt.db('deposit_accounts').where({ virtual_account: bidders[0].virtual }).first()).section_id }).update({ bid_deadline: deadline });
    const onTheDay = credit(bidders[0].virtual, 5_000_000n, bidders[0].account, deadline, { dateOnly: true });
    const { messageId, body } = camt(bank, await trustAccountOf(bank), [onTheDay, ...strangers(notificationInlineEntriesMax)]);
    expect((await w.notify(bank, body, 'application/xml')).status).toBe(202);
    while (Date.now() <= deadline.getTime() + 500) await new Promise((r) => setTimeout(r, 200));
    await processStoredNotification(rt, bank.id, messageId);

    const [d] = await depositsOfMessage(bank, messageId);
    const stored = await rt.db('bank_notifications').where({ bank_id: bank.id, message_id: messageId }).first();
    expect(stored.received_at.getTime()).toBeLessThan(deadline.getTime());
    expect(d.status).toBe('valid');
    expect(d.checks.find((c: { rule: string }) => c.rule === 'R3')).toMatchObject({ ok: true });
    expect((await rt.db('credits').where({ id: d.credit_id }).first()).notified_at.getTime()).toBe(stored.received_at.getTime());
  });

  it('keeps the file and its entries compressed with lz4 where the server has it', async () => {
    const { rows } = await rt.db.raw(`SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`);
    const columns = await rt.db.raw(`SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'bank_notifications'::regclass AND attname IN ('body', 'entries') ORDER BY attname`);
    const expected = rows[0].lz4 === true ? 'l' : '';
    expect(columns.rows).toEqual([{ attname: 'body', attcompression: expected }, { attname: 'entries', attcompression: expected }]);
  });

  it('answers a small notification at once, and its outcome reads done', async () => {
    const bank = await w.bank();
    const { bidders } = await sectionWithBidders(bank, 1);
    const { messageId, body } = camt(bank, await trustAccountOf(bank), [credit(bidders[0].virtual, 5_000_000n, bidders[0].account, new Date(Date.now() - 60_000))]);
    const res = await w.notify(bank, body, 'application/xml');
    expect([res.status, res.body.accepted]).toEqual([200, 1]);
    const read = await outcome(bank, messageId, bearer(w.centre));
    expect(read.body).toMatchObject({ status: 'done', accepted: 1, depositIds: res.body.depositIds });
  });
});
