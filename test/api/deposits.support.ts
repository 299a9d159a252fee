// Parties, a signed deposit bank and notifications for the deposit tests. Every test makes its
// own parties (unique USCCs, a random virtual-account prefix), so files sharing the run's
// database never see each other's money.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { ensureDevPki } from '../../src/pki/devPki';
import { issueCertificate, type IssuedKeyPair } from '../../src/pki/certs';
import { signMessage } from '../../src/pki/messageSignature';
import { bankCode, bearer, testDataDir, uniqueUscc } from '../support/runtime';
import { businessDate } from '../../src/domain/time';

export interface Bank {
  id: string;
  prefix: string;
  signer: IssuedKeyPair;
}

export function randomDigits(n: number): string {
  let s = String(1 + randomInt(9));
  while (s.length < n) s += String(randomInt(10));
  return s;
}

export class DepositWorld {
  constructor(readonly rt: Runtime, readonly app: Express, readonly centre: string) {}

  async bank(): Promise<Bank> {
    const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
    const ca = { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') };
    const signer = issueCertificate({ commonName: `deposit bank ${randomDigits(6)}`, ca });
    const prefix = randomDigits(10);
    const res = await request(this.app)
      .post('/v1/banks')
      .set(bearer(this.centre))
      .send({
        name: '测试存款银行',
        bankCode: bankCode('104', '1000', randomDigits(4)),
        adapter: 'iso20022',
        endpoint: 'http://127.0.0.1:9/bank',
        certificatePem: signer.certPem,
        trustAccount: { number: `9${randomDigits(18)}`, name: '公共资源交易中心保证金专户' },
        virtualAccountPrefix: prefix,
      });
    expect(res.status).toBe(201);
    return { id: res.body.id, prefix, signer };
  }

  async tenderee(): Promise<string> {
    const res = await request(this.app).post('/v1/tenderees').set(bearer(this.centre)).send({ name: '某市住建局', uscc: uniqueUscc() });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async bidder(basic: { number?: string; name?: string } = {}) {
    const account = { bankCode: bankCode('102', '1000', randomDigits(4)), number: basic.number ?? `62${randomDigits(17)}`, name: basic.name ?? `建工集团${randomDigits(4)}有限公司` };
    const res = await request(this.app).post('/v1/bidders').set(bearer(this.centre)).send({ name: account.name, uscc: uniqueUscc(), basicAccount: account });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, account };
  }

  async section(bankId: string, opts: { regime?: 'tendering_law' | 'government_procurement'; depositAmount?: string; accepted?: string[] } = {}) {
    const tendereeId = await this.tenderee();
    const res = await request(this.app)
      .post('/v1/sections')
      .set(bearer(this.centre))
      .send({
        projectCode: `P-${randomDigits(8)}`,
        sectionCode: `S-${randomDigits(6)}`,
        name: '道路改造工程一标段',
        tendereeId,
        regime: opts.regime ?? 'tendering_law',
        estimatedPrice: '5000000.00',
        depositAmount: opts.depositAmount ?? '50000.00',
        currency: 'CNY',
        bidDeadline: new Date(Date.now() + 7 * 86400e3).toISOString(),
        bidValidityDays: 90,
        depositBankId: bankId,
        acceptedSecurity: opts.accepted ?? ['cash', 'bank'],
      });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, tendereeId };
  }

  async virtualAccount(sectionId: string, bidderId: string, key = this.centre): Promise<string> {
    const res = await request(this.app).post(`/v1/sections/${sectionId}/deposit-accounts`).set(bearer(key)).send({ bidderId });
    expect([200, 201]).toContain(res.status);
    return res.body.virtualAccount;
  }

  notify(bank: Bank, body: string | Buffer, contentType = 'application/json') {
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    return request(this.app)
      .post(`/v1/banks/${bank.id}/notifications`)
      .set(signMessage(raw, { keyPem: bank.signer.keyPem, fingerprint: bank.signer.fingerprint }))
      .set('Content-Type', contentType)
      // superagent serialises a Buffer under a JSON content type; a string goes as written.
      .send(/json/.test(contentType) ? raw.toString('utf8') : raw);
  }

  /** The ledger of one bank: every journal touching its trust account balances, and the trust
   *  account holds exactly the credits recorded for it. Also the whole ledger sums to zero. */
  async expectLedgerConsistent(bankId: string): Promise<void> {
    const db = this.rt.db;
    const [{ total }] = await db('postings').sum({ total: 'amount_fen' });
    expect(BigInt(total ?? 0)).toBe(0n);
    const [{ trust }] = await db('postings').where({ account: `bank:${bankId}:trust` }).sum({ trust: 'amount_fen' });
    const [{ credited }] = await db('credits').where({ bank_id: bankId }).sum({ credited: 'amount_fen' });
    expect(BigInt(trust ?? 0)).toBe(BigInt(credited ?? 0));
    const unbalanced = await db('postings').groupBy('journal_id').havingRaw('sum(amount_fen) <> 0').select('journal_id');
    expect(unbalanced).toEqual([]);
  }
}

let entrySeq = 0;
export function entry(virtualAccount: string, amount: string, debtor: { name: string; number: string }, opts: { bookedAt?: Date; entryRef?: string; currency?: string } = {}) {
  entrySeq += 1;
  return {
    entryRef: opts.entryRef ?? `E${Date.now()}${randomDigits(6)}${entrySeq}`,
    virtualAccount,
    amount,
    currency: opts.currency ?? 'CNY',
    bookedAt: (opts.bookedAt ?? new Date()).toISOString(),
    valueDate: businessDate(opts.bookedAt ?? new Date()),
    debtor: { name: debtor.name, accountNumber: debtor.number, bankCode: '102100099996' },
    remittance: '投标保证金',
  };
}

/** Every item of a list route, page after page: other files of the run add to the same lists,
 *  so what a test made need not be on the first page. */
export async function everyPage<T>(app: Express, key: string, pathAndQuery: string): Promise<T[]> {
  const out: T[] = [];
  for (let cursor = ''; ; ) {
    const page = await request(app).get(`${pathAndQuery}${pathAndQuery.includes('?') ? '&' : '?'}limit=100${cursor}`).set(bearer(key));
    if (page.status !== 200) throw new Error(`GET ${pathAndQuery}: ${page.status} ${JSON.stringify(page.body)}`);
    out.push(...(page.body.data as T[]));
    if (!page.body.hasMore) return out;
    cursor = `&cursor=${page.body.nextCursor}`;
  }
}

export const jsonNotification = (entries: unknown[], eventId = `evt-${Date.now()}-${randomDigits(8)}`) => JSON.stringify({ eventId, entries });
