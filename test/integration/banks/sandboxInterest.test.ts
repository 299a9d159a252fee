// Quarterly interest (结息): on the 20th of a quarter's last month the bank credits the trust
// account with the quarter's demand-deposit interest (Σ daily closing balances × rate / 360,
// half-up) and notifies it; once per quarter, whatever restarts and however many simulators
// share the schema. The simulator's clock is moved to the 结息 day instead of waiting for it.
import type { SandboxBank } from '../../../src/sandbox-bank';
import { parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { api, assertValidXml, balanceOf, NotificationReceiver, openAccount, startTestBank, todayInShanghai, trustNumber, uniqueNumber, uniqueSchema, waitFor } from './sandboxSupport';

const fen = (s: string) => BigInt(s.replace('.', ''));
const rateMillionths = 15_000n; // 1.5 %

function addDays(date: string, n: number): string {
  const t = new Date(`${date}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
}
function daysInclusive(from: string, to: string): number {
  return (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
}
/** The first 结息 day (20 Mar/Jun/Sep/Dec) after `date`. */
function nextInterestDay(date: string): string {
  const year = Number(date.slice(0, 4));
  for (const y of [year, year + 1]) {
    for (const m of ['03', '06', '09', '12']) if (`${y}-${m}-20` > date) return `${y}-${m}-20`;
  }
  throw new Error('unreachable');
}
/** The 结息 day before `day`: the quarter's interest runs from the day after it. */
function previousInterestDay(day: string): string {
  const [y, m] = [Number(day.slice(0, 4)), Number(day.slice(5, 7))];
  return m === 3 ? `${y - 1}-12-20` : `${y}-${String(m - 3).padStart(2, '0')}-20`;
}
/** Interest on a constant balance held for `days` days, at the test's rate, half-up. */
function interestFen(balanceFen: bigint, days: number): bigint {
  const denominator = 1_000_000n * 360n;
  return (balanceFen * BigInt(days) * rateMillionths * 2n + denominator) / (2n * denominator);
}

let receiver: NotificationReceiver;
const banks: SandboxBank[] = [];
let clockAt: Date | undefined;

beforeAll(async () => {
  receiver = await new NotificationReceiver().start();
});
afterAll(async () => {
  for (const b of banks) await b.close();
  await receiver?.close();
});

async function interestEntries(bank: SandboxBank): Promise<any[]> {
  const view = await api(bank, 'GET', `/sandbox/accounts/${trustNumber}`);
  return view.body.entries.filter((e: any) => e.kind === 'interest');
}

describe('sandbox bank: quarterly interest (结息)', () => {
  test('paid on the 结息 day for the days the money was held, notified, and never twice across restarts or simulators', async () => {
    const config = { schema: uniqueSchema(), notifyUrl: receiver.url, interestRatePercent: '1.5', clock: () => clockAt ?? new Date() };
    const first = await startTestBank(config);
    banks.push(first);
    const payer = uniqueNumber();
    await openAccount(first, payer, '投标人有限公司', '2000000.00');
    expect((await api(first, 'POST', '/sandbox/transfers', { fromAccount: payer, toAccount: trustNumber, amount: '1000000.00' })).status).toBe(201);
    const balanceFen = fen(await balanceOf(first, trustNumber));
    expect(await interestEntries(first)).toEqual([]);

    // The trust account was opened today: the quarter's interest counts from today.
    const today = todayInShanghai();
    const day = nextInterestDay(today);
    const firstDay = [addDays(previousInterestDay(day), 1), today].sort()[1];
    const expected = interestFen(balanceFen, daysInclusive(firstDay, day));
    expect(expected).toBeGreaterThan(0n);
    clockAt = new Date(`${day}T09:00:00+08:00`);
    const [paid] = await waitFor('the quarter\'s interest', async () => {
      const got = await interestEntries(first);
      return got.length ? got : undefined;
    });
    expect(paid).toMatchObject({ direction: 'credit', valueDate: day, counterparty: { accountNumber: null, name: null, bankCode: null } });
    expect(fen(paid.amount)).toBe(expected);
    expect(fen(await balanceOf(first, trustNumber))).toBe(balanceFen + expected);
    const n = await waitFor('the interest notice', async () => receiver.received.find((r) => r.body.toString('utf8').includes(`SBXN${paid.transferRef}`)));
    assertValidXml(n.body.toString('utf8'), 'camt.054.001.08');
    expect(parseCamt054(n.body).credits).toEqual([
      expect.objectContaining({ entryRef: paid.ref, virtualAccount: trustNumber, amountFen: expected, valueDate: day, bankTransactionCode: 'ACMT/MCOP/INTR' }),
    ]);

    // Restarted on the same day, twice at once on the same schema: the quarter is not paid again.
    await first.close();
    const [second, third] = await Promise.all([startTestBank(config), startTestBank(config)]);
    banks.push(second, third);
    await new Promise((r) => setTimeout(r, 500));
    expect(await interestEntries(second)).toHaveLength(1);

    // The next quarter: both see its 结息 day; exactly one pays it, on the balance the first
    // interest left, for every day of the quarter.
    const next = nextInterestDay(day);
    clockAt = new Date(`${next}T09:00:00+08:00`);
    const both = await waitFor('the next quarter\'s interest', async () => {
      const got = await interestEntries(second);
      return got.length >= 2 ? got : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await interestEntries(third)).toHaveLength(2);
    expect(both[1].valueDate).toBe(next);
    expect(fen(both[1].amount)).toBe(interestFen(balanceFen + expected, daysInclusive(addDays(day, 1), next)));
  });
});
