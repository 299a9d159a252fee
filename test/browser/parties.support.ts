// A section with its tenderee and three bidders, set up through the product as the centre, the
// deposit bank and an issuer would: bidder A pays cash into the sub-account its own page shows,
// bidder B pays cash, bidder C is secured by a guarantor's e-guarantee. People sign in as
// console users made by the users service.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Page } from 'playwright-core';
import { addCalendarDays, toBusinessDate } from '../../src/domain/time';
import { ensureDevPki } from '../../src/pki/devPki';
import { renderAndSign } from '../../src/vouchers/service';
import { createUser } from '../../src/users/service';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from '../api/deposits.support';
import { World, unique, type TestIssuer } from '../api/guaranteesFixtures';
import { nssDbTrusting, run, tempDir } from '../integration/vouchers/tools';
import { bankCode, bearer, keyFor, testApp, testDataDir, uniqueUscc } from '../support/runtime';
import type { BrowserStack } from './support';

const operator = { type: 'operator' as const, id: 'browser-test' };

export interface Person {
  login: string;
  password: string;
}

export interface Bidder {
  id: string;
  uscc: string;
  name: string;
  account: { bankCode: string; number: string; name: string };
}

/** A console user of `role` speaking for the given party. */
export async function person(stack: BrowserStack, role: 'bidder' | 'tenderee', ids: { bidderId?: string; tendereeId?: string }): Promise<Person> {
  const login = `${role}.${Date.now().toString(36)}${randomDigits(6)}`;
  const password = `correct horse ${randomDigits(8)}`;
  await stack.rt.db.transaction((tx) => createUser(tx, operator, { login, role, password, ...ids }));
  return { login, password };
}

/** The credit grade of bidder A and what the section takes off for it (R4 with reductions). */
export const creditGrade = { grade: 'AAA', percent: 20 };

export class PartiesScene {
  readonly app: Express;
  centre = '';
  deposits!: DepositWorld;
  guarantees!: World;
  bank!: Bank;
  issuer!: TestIssuer;
  tenderee = { id: '', uscc: uniqueUscc(), name: `某市住建局${randomDigits(4)}` };
  section!: { id: string; projectCode: string; sectionCode: string; name: string; bidDeadline: string; bidValidityDays: number };

  constructor(readonly stack: BrowserStack) {
    this.app = testApp(stack.rt);
  }

  async init(): Promise<this> {
    this.centre = await keyFor(this.stack.rt, 'centre');
    this.deposits = new DepositWorld(this.stack.rt, this.app, this.centre);
    this.guarantees = await new World(this.stack.rt, this.app).init();
    this.bank = await this.deposits.bank();
    this.issuer = await this.guarantees.issuer('guarantor');
    const t = await this.post('/v1/tenderees', { name: this.tenderee.name, uscc: this.tenderee.uscc });
    expect(t.status).toBe(201);
    this.tenderee.id = t.body.id;
    const s = await this.post('/v1/sections', {
      projectCode: unique('P'), sectionCode: unique('S'), name: `滨江路改造工程${randomDigits(3)}标段`, tendereeId: this.tenderee.id, regime: 'tendering_law',
      estimatedPrice: '5000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 7 * 86400e3).toISOString(),
      bidValidityDays: 90, depositBankId: this.bank.id, acceptedSecurity: ['cash', 'guarantor'], creditReductions: [creditGrade],
    });
    expect(s.status).toBe(201);
    this.section = s.body;
    return this;
  }

  post(pathname: string, body: object) {
    return request(this.app).post(pathname).set(bearer(this.centre)).send(body);
  }

  get(pathname: string) {
    return request(this.app).get(pathname).set(bearer(this.centre));
  }

  async bidder(label: string): Promise<Bidder> {
    const name = `${label}建设集团有限公司${randomDigits(4)}`;
    const account = { bankCode: bankCode('102', '1000', randomDigits(4)), number: `62${randomDigits(17)}`, name };
    const uscc = uniqueUscc();
    const res = await this.post('/v1/bidders', { name, uscc, basicAccount: account });
    expect(res.status).toBe(201);
    return { id: res.body.id, uscc, name, account };
  }

  async grade(b: Bidder): Promise<void> {
    const today = toBusinessDate(new Date());
    const res = await request(this.app)
      .put(`/v1/bidders/${b.id}/credit`)
      .set(bearer(this.centre))
      .send({ grade: creditGrade.grade, source: '信用中国', validFrom: today, validTo: addCalendarDays(today, 365) });
    expect(res.status).toBeLessThan(300);
  }

  /** The bank tells the service a credit arrived in `virtualAccount` from the bidder's basic
   *  account; the deposit's receipt is signed at once, as the voucher worker would. */
  async pay(b: Bidder, virtualAccount: string, amount: string): Promise<string> {
    const res = await this.deposits.notify(this.bank, jsonNotification([entry(virtualAccount, amount, { name: b.account.name, number: b.account.number })]));
    expect([res.status, res.body.accepted, res.body.error]).toEqual([200, 1, undefined]);
    const depositId = res.body.depositIds[0] as string;
    await this.signVouchersOf(depositId);
    return depositId;
  }

  async signVouchersOf(subjectId: string): Promise<string[]> {
    const res = await this.get(`/v1/vouchers?subjectId=${subjectId}`);
    expect(res.status).toBe(200);
    const ids = (res.body.data as { id: string }[]).map((v) => v.id);
    for (const id of ids) await renderAndSign(this.stack.rt, id);
    return ids;
  }

  async guarantee(b: Bidder, amount: string): Promise<{ id: string; number: string }> {
    const deadlineDate = toBusinessDate(this.section.bidDeadline);
    const res = await this.guarantees.issue(this.issuer, {
      eventId: unique('evt'), number: unique('GG'), kind: 'guarantor',
      applicant: { uscc: b.uscc, name: b.name }, beneficiary: { uscc: this.tenderee.uscc, name: this.tenderee.name },
      projectCode: this.section.projectCode, sectionCode: this.section.sectionCode, amount, currency: 'CNY',
      validFrom: toBusinessDate(new Date()), validTo: addCalendarDays(deadlineDate, this.section.bidValidityDays + 30),
      issuedAt: new Date(Date.now() - 60_000).toISOString(), documentSha256: randomBytes(32).toString('hex'),
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('issued');
    return { id: res.body.id, number: res.body.number };
  }

  /** The bid deadline passes (moved to a moment ago: the tests cannot wait a week) and the centre
   *  opens the bids. */
  async open(): Promise<{ voucherId: string | null }> {
    await this.stack.rt.db('sections').where({ id: this.section.id }).update({ bid_deadline: new Date(Date.now() - 1000) });
    const res = await this.post(`/v1/sections/${this.section.id}/opening`, {});
    expect(res.status).toBe(201);
    return { voucherId: res.body.voucherId };
  }
}

/** Waits until no list is loading and the spinners' fade is over, so a screenshot shows the page
 *  as a person reads it. */
export async function settled(page: Page): Promise<void> {
  await page.locator('.ant-spin-spinning').first().waitFor({ state: 'detached' });
  await page.waitForTimeout(400);
}

/** The text a person can read on the page (not the HTML source). */
export const pageText = (page: Page) => page.locator('body').innerText();

/** pdfsig's report on a PDF, with the service's development root trusted. */
export async function pdfsigReport(pdf: Buffer): Promise<string> {
  const tmp = tempDir('bidbond-browser-pdf-');
  try {
    const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
    const nss = await nssDbTrusting(tmp.file('nss'), pki.rootCert);
    const r = await run('pdfsig', ['-nssdir', nss, tmp.file('voucher.pdf', pdf)]);
    return r.stdout + r.stderr;
  } finally {
    tmp.remove();
  }
}
