// The world the centre's pages are tested in: its own database (the dashboard counts everything
// it can see, so no other file's records may be there), a deposit bank that never answers (each
// refund's outcome is then the bank's answer the test gives), parties, and the people who sign in.
import request from 'supertest';
import type { Express } from 'express';
import type { Page } from 'playwright-core';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../src/banks/types';
import { applyStatus, submitRefund } from '../../src/refunds/executor';
import { createUser } from '../../src/users/service';
import { DepositWorld, entry, jsonNotification, randomDigits, type Bank } from '../api/deposits.support';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, testApp } from '../support/runtime';
import { accessibilityViolations, confirmOverlay, screenshot, startBrowserStack, type BrowserStack } from './support';

export const password = 'centre pages password 2026';

export class CentreWorld {
  stack!: BrowserStack;
  app!: Express;
  centreKey!: string;
  deposits!: DepositWorld;
  bank!: Bank;
  trustNumber!: string;
  centreLogin = `centre.${randomDigits(6)}`;
  auditorLogin = `auditor.${randomDigits(6)}`;
  private isolated!: IsolatedDatabase;

  static async start(): Promise<CentreWorld> {
    const w = new CentreWorld();
    w.isolated = await createIsolatedDatabase(`browser_centre_${randomDigits(6)}`);
    w.stack = await startBrowserStack({ DATABASE_URL: w.isolated.url, BIDBOND_QUEUE_PREFIX: w.isolated.queuePrefix });
    w.app = testApp(w.stack.rt);
    w.centreKey = await keyFor(w.stack.rt, 'centre');
    w.deposits = new DepositWorld(w.stack.rt, w.app, w.centreKey);
    w.bank = await w.deposits.bank();
    w.trustNumber = (await request(w.app).get(`/v1/banks/${w.bank.id}`).set(bearer(w.centreKey))).body.trustAccount.number;
    await w.stack.rt.db.transaction(async (tx) => {
      await createUser(tx, { type: 'operator' }, { login: w.centreLogin, role: 'centre', password });
      await createUser(tx, { type: 'operator' }, { login: w.auditorLogin, role: 'auditor', password });
    });
    return w;
  }

  async close(): Promise<void> {
    await this.stack?.close();
    await this.isolated?.drop();
  }

  api() {
    return {
      get: (p: string) => request(this.app).get(p).set(bearer(this.centreKey)),
      post: (p: string, body: unknown) => request(this.app).post(p).set(bearer(this.centreKey)).send(body as object),
    };
  }

  /** A section whose bids close in `minutes`, with one bidder's deposit paid from its basic account. */
  async sectionWithDeposit(minutes: number) {
    const tendereeId = await this.deposits.tenderee();
    const name = `城市道路改造工程${randomDigits(4)}标段`;
    const res = await this.api().post('/v1/sections', {
      projectCode: `P-${randomDigits(8)}`, sectionCode: `S-${randomDigits(4)}`, name, tendereeId, regime: 'tendering_law',
      estimatedPrice: '5000000.00', depositAmount: '50000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + minutes * 60_000).toISOString(),
      bidValidityDays: 90, depositBankId: this.bank.id, acceptedSecurity: ['cash', 'bank'],
    });
    expect(res.status).toBe(201);
    const bidder = await this.deposits.bidder();
    const va = await this.deposits.virtualAccount(res.body.id, bidder.id);
    const paid = await this.deposits.notify(this.bank, jsonNotification([entry(va, '50000.00', { name: bidder.account.name, number: bidder.account.number })]));
    expect(paid.status).toBe(200);
    return { section: res.body as { id: string; name: string; bidDeadline: string }, bidder, depositId: paid.body.depositIds[0] as string };
  }

  /** A credit to a sub-account nobody holds: suspense (R15). */
  async suspenseCredit(): Promise<string> {
    const res = await this.deposits.notify(this.bank, jsonNotification([entry(`${this.bank.prefix}${randomDigits(11)}`, '1234.56', { name: '某贸易有限公司', number: '6222333344445555666' })]));
    expect(res.body.accepted).toBe(1);
    return res.body.depositIds[0];
  }

  /** A credit in Swiss francs to a bidder's sub-account: not a yuan deposit but a bank exception
   *  for a person (R4). Its entry reference is returned. */
  async foreignCurrencyCredit(): Promise<string> {
    const { id } = await this.deposits.section(this.bank.id);
    const bidder = await this.deposits.bidder();
    const va = await this.deposits.virtualAccount(id, bidder.id);
    const chf = entry(va, '1500.00', { name: bidder.account.name, number: bidder.account.number }, { currency: 'CHF' });
    const res = await this.deposits.notify(this.bank, jsonNotification([chf]));
    expect(res.body).toMatchObject({ accepted: 0, exceptions: 1 });
    return chf.entryRef;
  }

  /** The refund is sent (the bank cannot be reached: outcome unknown), then the bank says the
   *  account is closed (AC04): R17 puts it in manual handling. */
  async bankRejectsAsClosedAccount(refundId: string): Promise<void> {
    const rt = this.stack.rt;
    expect(await submitRefund(rt, refundId)).toBe('unknown');
    const attempt = await rt.db('refund_attempts').where({ refund_id: refundId }).whereIn('status', ['sending', 'sent', 'sent_unknown']).first();
    expect(await applyStatus(rt, attempt.id, { endToEndId: attempt.end_to_end_id, outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04' })).toBe('manual');
  }

  /** A camt.053 statement of an old day holding one debit the ledger never saw (a bank fee, say):
   *  a credit would be recovered into suspense on its own, a debit waits for a person. */
  statementWithUnknownDebit(): { xml: string; entryRef: string } {
    const entryRef = `UNK${randomDigits(10)}`;
    const entries: StatementEntry[] = [
      { entryRef, direction: 'debit', amountFen: 12_345n, currency: 'CNY', bookedAt: '2020-03-02T02:00:00Z', valueDate: '2020-03-02', counterparty: { name: '某公司', accountNumber: '6222000011112222333' } },
    ];
    const xml = [
      ...camt053Chunks(
        { messageId: `STMT${randomDigits(10)}`, statementId: 'ST20200302', sequenceNumber: '1', account: this.trustNumber, currency: 'CNY', date: '2020-03-02', openingBalanceFen: 0n, closingBalanceFen: -12_345n, createdAt: new Date() },
        entries,
      ),
    ].join('');
    return { xml, entryRef };
  }
}

/** Every page looked at: a screenshot under its name, and no serious accessibility violation. */
export async function lookAt(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await screenshot(page, name);
  expect({ page: name, violations: await accessibilityViolations(page) }).toEqual({ page: name, violations: [] });
}

/** The page fits its viewport: nothing wider than the screen but the tables' own scrollers. */
export async function fitsWidth(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => {
    const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
    return { scroll: g.document.documentElement.scrollWidth, width: g.innerWidth };
  });
  expect(scroll).toBeLessThanOrEqual(width + 1);
}

/** Picks an option of an Ant Design select as a person would, and waits until the select shows
 *  it: a click that lands while the dropdown is still sliding in can be lost on a loaded machine,
 *  and the form would then be sent with the previous choice. */
export async function chooseOption(page: Page, selectId: string, option: string): Promise<void> {
  // The dropdown is rendered apart from the select, so the select's own text is its choice.
  const chosen = page.locator(`.ant-select:has(#${selectId})`);
  for (let tries = 0; ; tries++) {
    await page.locator(`#${selectId}`).click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: option }).click();
    try {
      await chosen.filter({ hasText: option }).waitFor({ timeout: 5_000 });
      return;
    } catch (e) {
      if (tries >= 2) throw e;
    }
  }
}

/** Submits a decision form and confirms it in its dialog, as a person would; waits until the
 *  dialog has closed (the API has answered). On failure the page is kept as a screenshot. */
export async function submitAndConfirm(page: Page, form: string): Promise<void> {
  await page.getByTestId(`${form}-submit`).click();
  await confirmDialog(page, form);
}

/** Confirms the open dialog of a decision form and waits until it has closed (the API has
 *  answered, whatever it said). */
export function confirmDialog(page: Page, form: string): Promise<void> {
  return confirmOverlay(page, page.locator(`#${form}-confirm`), form);
}
