// Single-credit notices arriving together are committed in groups (deposits/notificationGroups.ts):
// each keeps its own claim, answer, audit event and verdict, as if it had come alone.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Knex } from 'knex';
import type { Runtime } from '../../src/runtime';
import { GroupCommitter } from '../../src/db/groupCommit';
import { notificationGroupUnitsMax, notificationWork, type NotificationUnit } from '../../src/deposits/notificationGroups';
import { CertificateRetiredAtClaim } from '../../src/http/webhookAuth';
import { issueCertificate } from '../../src/pki/certs';
import { ensureDevPki } from '../../src/pki/devPki';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir } from '../support/runtime';
import { DepositWorld, entry, everyPage, jsonNotification, randomDigits, type Bank } from './deposits.support';

let rt: Runtime;
let app: Express;
let w: DepositWorld;
let bank: Bank;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = new DepositWorld(rt, app, await keyFor(rt, 'centre'));
  bank = await w.bank();
});
afterEach(async () => {
  await w.expectLedgerConsistent(bank.id);
});
afterAll(async () => {
  await rt.close();
});

async function bidders(n: number, depositAmount = '50000.00') {
  const section = await w.section(bank.id, { depositAmount });
  const out = [];
  for (let i = 0; i < n; i++) {
    const bidder = await w.bidder();
    out.push({ bidder, va: await w.virtualAccount(section.id, bidder.id), payer: { name: bidder.account.name, number: bidder.account.number } });
  }
  return { section, bidders: out };
}

const groupSizes = async () => {
  const m = await rt.metrics.groupCommitSize.get();
  const value = (name: string) => m.values.find((v) => v.metricName === name && v.labels.work === 'notifications')?.value ?? 0;
  return { count: value('bidbond_group_commit_size_count'), sum: value('bidbond_group_commit_size_sum') };
};

const receivedEvents = async (messageIds: string[]) => {
  const events = await everyPage<{ data: { messageId: string } }>(app, w.centre, `/v1/audit?entityType=bank&entityId=${bank.id}&action=bank.notification_received`);
  return events.filter((e) => messageIds.includes(e.data.messageId));
};

describe('a rush of single credits', () => {
  it('is committed in groups, each notice answered, judged (R4) and audited as if it had come alone', async () => {
    const { bidders: all } = await bidders(12);
    const before = await groupSizes();
    // Two credits per bidder, 30,000 each, against a requirement of 50,000: one waits, the other
    // makes both valid with 10,000 excess (R4), whichever is judged first.
    const notices = all.flatMap((b) => [0, 1].map(() => ({ b, eventId: `evt-rush-${randomDigits(12)}`, e: entry(b.va, '30000.00', b.payer) })));
    const answers = await Promise.all(notices.map((n) => w.notify(bank, jsonNotification([n.e], n.eventId))));
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ messageId: notices[i].eventId, accepted: 1, duplicates: 0, exceptions: 0 });
      expect(res.body.depositIds).toHaveLength(1);
    }
    expect(new Set(answers.map((r) => r.body.depositIds[0])).size).toBe(notices.length);
    const after = await groupSizes();
    expect(after.sum - before.sum).toBe(notices.length);
    // Fewer transactions than notices: some were committed together.
    expect(after.count - before.count).toBeLessThan(notices.length);

    for (const b of all) {
      const mine = answers.filter((_, i) => notices[i].b === b).map((r) => r.body.depositIds[0]);
      const deposits = await Promise.all(mine.map(async (id) => (await request(app).get(`/v1/deposits/${id}`).set(bearer(w.centre))).body));
      expect(deposits.map((d) => d.status)).toEqual(['valid', 'valid']);
      expect(deposits.map((d) => d.excess).sort()).toEqual(['0.00', '10000.00']);
    }
    expect(await receivedEvents(notices.map((n) => n.eventId))).toHaveLength(notices.length);
  });

  it('acts once on a message sent several times at once, each copy answered with the first answer', async () => {
    const { bidders: [b, other] } = await bidders(2);
    const body = jsonNotification([entry(b.va, '100.00', b.payer)]);
    const others = [0, 1, 2].map(() => jsonNotification([entry(other.va, '100.00', other.payer)]));
    const answers = await Promise.all([body, body, ...others, body].map((x) => w.notify(bank, x)));
    const copies = [answers[0], answers[1], answers[5]];
    expect(copies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(copies.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    expect(copies[1].body).toEqual(copies[0].body);
    expect(copies[2].body).toEqual(copies[0].body);
    expect(copies[0].body.accepted).toBe(1);
    expect(await rt.db('credits').where({ bank_id: bank.id, virtual_account: b.va })).toHaveLength(1);
    expect(answers.slice(2, 5).every((r) => r.status === 200 && r.body.accepted === 1)).toBe(true);
  });

  it('answers 409 to a message id reused with another body, and commits the notices around it', async () => {
    const { bidders: [b, other] } = await bidders(2);
    const eventId = `evt-reused-${randomDigits(10)}`;
    const first = jsonNotification([entry(b.va, '100.00', b.payer)], eventId);
    const second = jsonNotification([entry(b.va, '200.00', b.payer)], eventId);
    const others = [0, 1, 2, 3].map(() => jsonNotification([entry(other.va, '100.00', other.payer)]));
    const answers = await Promise.all([first, ...others, second].map((x) => w.notify(bank, x)));
    const statuses = [answers[0].status, answers[5].status].sort();
    expect(statuses).toEqual([200, 409]);
    expect([answers[0], answers[5]].find((r) => r.status === 409)!.body.error.code).toBe('event_id_reused');
    expect(await rt.db('credits').where({ bank_id: bank.id, virtual_account: b.va })).toHaveLength(1);
    expect(answers.slice(1, 5).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await rt.db('credits').where({ bank_id: bank.id, virtual_account: other.va })).toHaveLength(4);
  });

  it('answers a notice that is not one with its own 400, and commits the others', async () => {
    const { bidders: [b] } = await bidders(1);
    const bad = JSON.stringify({ eventId: `evt-bad-${randomDigits(8)}`, entries: [{ ...entry(b.va, '1.2.3', b.payer) }] });
    const good = [0, 1, 2].map(() => jsonNotification([entry(b.va, '100.00', b.payer)]));
    const answers = await Promise.all([good[0], bad, good[1], good[2]].map((x) => w.notify(bank, x)));
    expect(answers.map((r) => r.status)).toEqual([200, 400, 200, 200]);
    expect(answers[1].body.error.code).toBe('bank_message_invalid');
    expect(await rt.db('credits').where({ bank_id: bank.id, virtual_account: b.va })).toHaveLength(3);
  });
});

/** A committer of notices like the process's own, whose work in the transaction is `act`. */
function committer(act: (tx: Knex.Transaction, units: NotificationUnit[]) => Promise<void>) {
  const work = notificationWork(rt.metrics);
  return new GroupCommitter<NotificationUnit, { status: number; body: any; replayed: boolean }>(
    rt,
    { ...work, act: async (tx, units) => { const outcomes = await work.act(tx, units); await act(tx, units); return outcomes; } },
  );
}

const unit = (body: string | Buffer): NotificationUnit => ({
  sender: { type: 'bank', id: bank.id, fingerprint: bank.signer.fingerprint },
  rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body),
  contentType: 'application/json',
  notifiedAt: new Date(),
  calendar: rt.tables.calendar,
});

describe('the statements of a group', () => {
  it('are as many for many notices as for one: the rush costs the database no more round trips per group', async () => {
    const { bidders: all } = await bidders(7);
    const byTx = new Map<unknown, string[]>();
    const listen = (q: { sql: string; __knexTxId?: unknown }) => {
      if (q.__knexTxId === undefined) return;
      if (!byTx.has(q.__knexTxId)) byTx.set(q.__knexTxId, []);
      byTx.get(q.__knexTxId)!.push(q.sql.trim().split(/\s+/).slice(0, 3).join(' '));
    };
    const sizes: number[] = [];
    const groups = committer(async (_, units) => {
      sizes.push(units.length);
    });
    // Each pays its whole deposit: valid at once, with its receipt owed.
    const body = (b: (typeof all)[number]) => jsonNotification([entry(b.va, '50000.00', b.payer)]);
    rt.db.on('query', listen);
    try {
      await groups.submit(unit(body(all[0])), rt);
      const answers = await Promise.all(all.slice(1).map((b) => groups.submit(unit(body(b)), rt)));
      expect(answers.every((a) => a.status === 200 && a.body.accepted === 1)).toBe(true);
    } finally {
      rt.db.off('query', listen);
    }
    expect(sizes[0]).toBe(1);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    // The groups' transactions (the outbox's relay runs its own meanwhile).
    const transactions = [...byTx.values()].filter((t) => t.includes('WITH signed AS'));
    expect(transactions).toHaveLength(sizes.length);
    for (const t of transactions) {
      expect(t).toEqual([
        'BEGIN;',
        'WITH signed AS', // the messages claimed, each while its certificate is unretired
        'WITH claimed AS', // the credits, their sub-accounts and sections locked
        'SELECT d.* FROM', // the bidders' standing deposits, read after the locks
        'WITH new_deposits AS', // the deposits and their journals
        'WITH x AS', // the receipts owed (the vouchers' outbox)
        'WITH answered AS', // the answers and the audit events
        'COMMIT;',
      ]);
    }
  });
});

describe("the bank's row", () => {
  it('comes with the certificate of each signed notice, so a rush reads it no more; a sender without it has it read', async () => {
    const { bidders: all } = await bidders(4);
    const bankReads: string[] = [];
    const listen = (q: { sql: string }) => {
      if (/FROM banks WHERE id = \$1/.test(q.sql)) bankReads.push(q.sql);
    };
    rt.db.on('query', listen);
    try {
      const answers = await Promise.all(all.map((b) => w.notify(bank, jsonNotification([entry(b.va, '50000.00', b.payer)]))));
      expect(answers.map((a) => a.status)).toEqual(all.map(() => 200));
    } finally {
      rt.db.off('query', listen);
    }
    expect(bankReads).toEqual([]);
    // A sender that comes without the row (a caller of its own) still has its notices read
    // against the bank as registered.
    const { bidders: [b] } = await bidders(1);
    const alone = await committer(async () => undefined).submit(unit(jsonNotification([entry(b.va, '50000.00', b.payer)])), rt);
    expect(alone).toMatchObject({ status: 200, body: { accepted: 1 } });
  });

  it("is read with its certificate once per process: a bank's later notices read neither", async () => {
    const own = await w.bank();
    const section = await w.section(own.id);
    const payers = await Promise.all([0, 1, 2].map(async () => {
      const bidder = await w.bidder();
      return { va: await w.virtualAccount(section.id, bidder.id), payer: { name: bidder.account.name, number: bidder.account.number } };
    }));
    const certificateReads: string[] = [];
    const listen = (q: { sql: string; bindings?: unknown[] }) => {
      if (/AS f\(fingerprint\)/.test(q.sql) && JSON.stringify(q.bindings ?? []).includes(own.signer.fingerprint)) certificateReads.push(q.sql);
    };
    rt.db.on('query', listen);
    try {
      for (const p of payers) expect((await w.notify(own, jsonNotification([entry(p.va, '100.00', p.payer)]))).status).toBe(200);
    } finally {
      rt.db.off('query', listen);
    }
    expect(certificateReads).toHaveLength(1);
  });
});

describe('two groups in their transactions at once', () => {
  it("credit one sub-account in turn: the second waits for the first's lock and judges its credits after the first's (R4)", async () => {
    const { bidders: [b] } = await bidders(1);
    const work = notificationWork(rt.metrics);
    const entered: string[][] = [];
    const acted: string[][] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    // The first group holds its transaction open, its sub-account locked, until released.
    const groups = new GroupCommitter<NotificationUnit, { status: number; body: any; replayed: boolean }>(rt, {
      ...work,
      act: async (tx, units) => {
        const ids = units.map((u) => u.received!.notification.messageId);
        entered.push(ids);
        const outcomes = await work.act(tx, units);
        acted.push(ids);
        if (acted.length === 1) await firstHeld;
        return outcomes;
      },
    });
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(cond()).toBe(true);
    };
    const submit = (amount: string) => groups.submit(unit(jsonNotification([entry(b.va, amount, b.payer)])), rt);
    // 30,000 against a requirement of 50,000: received, waiting for more.
    const first = submit('30000.00');
    await until(() => acted.length === 1);
    const rest = [0, 1, 2, 3].map(() => submit('5000.00'));
    // The second group starts while the first is still open, and waits on the sub-account.
    await until(() => entered.length === 2);
    expect(entered[1]).toHaveLength(4);
    await new Promise((r) => setTimeout(r, 100));
    expect(acted).toHaveLength(1);
    releaseFirst();
    const answers = await Promise.all([first, ...rest]);
    expect(answers.map((a) => [a.status, a.body.accepted])).toEqual(Array(5).fill([200, 1]));
    // Judged after the first group's credit, the fourth 5,000 completes 50,000: all five valid.
    const deposits = await Promise.all(answers.map(async (a) => (await request(app).get(`/v1/deposits/${a.body.depositIds[0]}`).set(bearer(w.centre))).body));
    expect(deposits.map((d) => d.status)).toEqual(Array(5).fill('valid'));
    expect(deposits.map((d) => d.excess)).toEqual(Array(5).fill('0.00'));
  });
});

describe('a group whose transaction fails', () => {
  it('commits each of its notices alone, so the failure is only the failing one\'s answer', async () => {
    const { bidders: [b] } = await bidders(1);
    const failing = `evt-fails-${randomDigits(8)}`;
    const seen: string[][] = [];
    // The failing notice's work throws in whatever group it is in, as a crash of its own would.
    const groups = committer(async (_, units) => {
      const ids = units.map((u) => u.received!.notification.messageId);
      seen.push(ids);
      if (ids.includes(failing)) throw new Error('the work of this notice failed');
    });
    const bodies = [jsonNotification([entry(b.va, '100.00', b.payer)]), jsonNotification([entry(b.va, '100.00', b.payer)], failing), ...[0, 1, 2].map(() => jsonNotification([entry(b.va, '100.00', b.payer)]))];
    const outcomes = await Promise.allSettled(bodies.map((x) => groups.submit(unit(x), rt)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('the work of this notice failed');
    // It was first in a group with others, then alone; the others were committed without it.
    expect(seen.some((ids) => ids.includes(failing) && ids.length > 1)).toBe(true);
    expect(seen.filter((ids) => ids.length === 1 && ids[0] === failing)).toHaveLength(1);
    expect(await rt.db('credits').where({ bank_id: bank.id, virtual_account: b.va })).toHaveLength(4);
    expect(await rt.db('webhook_events').where({ sender_id: bank.id, event_id: failing })).toHaveLength(0);
  });

  it('takes at most a bounded number of notices into one transaction', async () => {
    const { bidders: [b] } = await bidders(1);
    const sizes: number[] = [];
    const groups = committer(async (_, units) => {
      sizes.push(units.length);
    });
    const n = notificationGroupUnitsMax * 2 + 3;
    const bodies = Array.from({ length: n }, () => Buffer.from(jsonNotification([entry(b.va, '1.00', b.payer)])));
    const answers = await Promise.all(
      bodies.map((rawBody) => groups.submit(unit(rawBody), rt)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(n);
    expect(Math.max(...sizes)).toBe(notificationGroupUnitsMax);
  });

  it('never puts one message twice in a group: the copy waits for the next and gets the first answer', async () => {
    const { bidders: [b] } = await bidders(1);
    const groupsSeen: string[][] = [];
    const groups = committer(async (_, units) => {
      groupsSeen.push(units.map((u) => u.received!.notification.messageId));
    });
    const rawBody = Buffer.from(jsonNotification([entry(b.va, '1.00', b.payer)]));
    const other = Buffer.from(jsonNotification([entry(b.va, '2.00', b.payer)]));
    const submit = (body: Buffer) => groups.submit(unit(body), rt);
    const answers = await Promise.all([submit(other), submit(rawBody), submit(rawBody), submit(rawBody)]);
    expect(answers.map((a) => a.replayed)).toEqual([false, false, true, true]);
    expect(answers[2].body).toEqual(answers[1].body);
    expect(groupsSeen.every((ids) => new Set(ids).size === ids.length)).toBe(true);
    expect(await rt.db('credits').where({ bank_id: bank.id, virtual_account: b.va })).toHaveLength(2);
  });
});

describe('a certificate retired after its registration was remembered', () => {
  // The notices' route takes a certificate's registration from the process's memory once read;
  // the claim of each notice's message id is what finds the certificate retired.
  async function bankWithTwoCertificates() {
    const own = await w.bank();
    const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
    const next = issueCertificate({ commonName: `deposit bank next ${randomDigits(6)}`, ca: { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') } });
    const added = await request(app).post(`/v1/banks/${own.id}/certificates`).set(bearer(w.centre)).send({ certificatePem: next.certPem });
    expect(added.status).toBe(201);
    const section = await w.section(own.id);
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    const payer = { name: bidder.account.name, number: bidder.account.number };
    return { own, withNext: { ...own, signer: next }, va, payer };
  }
  const retire = async (bankId: string, fingerprint: string) =>
    expect((await request(app).delete(`/v1/banks/${bankId}/certificates/${fingerprint}`).set(bearer(w.centre))).status).toBe(204);
  const retiredRefusals = async () => (await rt.metrics.webhookRejected.get()).values.find((v) => v.labels.reason === 'certificate_retired')?.value ?? 0;
  const creditsOf = async (bankId: string, va: string) => (await rt.db('credits').where({ bank_id: bankId, virtual_account: va })).map((c) => String(c.amount_fen)).sort();

  it('refuses a notice signed with it (401, counted, nothing kept), and the same message signed with the current one is acted on', async () => {
    const { own, withNext, va, payer } = await bankWithTwoCertificates();
    expect((await w.notify(own, jsonNotification([entry(va, '100.00', payer)]))).status).toBe(200);
    await retire(own.id, own.signer.fingerprint);

    const refusedBefore = await retiredRefusals();
    const message = jsonNotification([entry(va, '200.00', payer)], `evt-retired-${randomDigits(10)}`);
    const refused = await w.notify(own, message);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('certificate_retired');
    expect(await retiredRefusals()).toBe(refusedBefore + 1);
    expect(await creditsOf(own.id, va)).toEqual(['10000']);

    // Its message id was not spent by the refusal.
    const again = await w.notify(withNext, message);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(await creditsOf(own.id, va)).toEqual(['10000', '20000']);
  });

  it('refuses, in a group, only the notice signed with it', async () => {
    const { own, withNext, va, payer } = await bankWithTwoCertificates();
    expect((await w.notify(own, jsonNotification([entry(va, '100.00', payer)]))).status).toBe(200);
    await retire(own.id, own.signer.fingerprint);

    const sizes: number[] = [];
    const groups = committer(async (_, units) => {
      sizes.push(units.length);
    });
    const signedBy = (b: Bank, amount: string): NotificationUnit => ({
      sender: { type: 'bank', id: b.id, fingerprint: b.signer.fingerprint },
      rawBody: Buffer.from(jsonNotification([entry(va, amount, payer)])),
      contentType: 'application/json',
      notifiedAt: new Date(),
      calendar: rt.tables.calendar,
    });
    // The first is committed at once; the other three gather meanwhile into one group.
    const outcomes = await Promise.allSettled([
      groups.submit(signedBy(withNext, '1.00'), rt),
      groups.submit(signedBy(withNext, '2.00'), rt),
      groups.submit(signedBy(own, '3.00'), rt),
      groups.submit(signedBy(withNext, '4.00'), rt),
    ]);
    expect(sizes).toEqual([1, 3]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(CertificateRetiredAtClaim);
    expect(await creditsOf(own.id, va)).toEqual(['100', '10000', '200', '400']);
  });
});
