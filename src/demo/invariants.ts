// What must be true when the demo ends, checked from the outside (the API and the sandbox
// bank's books), each with the evidence. Any failure makes the demo exit non-zero.
import { parseAmount, formatAmount } from '../domain/money';
import { expectedUnsecured } from './cast';
import type { World } from './scenario';
import type { VoucherFile } from './vouchers';
import { httpConcurrency, mapLimit } from './http';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const fen = (s: string | null | undefined) => (s ? parseAmount(s, { allowZero: true }) : 0n);
/** Failures listed per check before "…and N more". */
const failuresShownMax = 5;

function check(name: string, failures: string[], okDetail: string): Check {
  return failures.length === 0
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: failures.slice(0, failuresShownMax).join('; ') + (failures.length > failuresShownMax ? `; …and ${failures.length - failuresShownMax} more` : '') };
}

export interface Evidence {
  deposits: any[];
  refunds: any[]; // with attempts
  roster: any;
  reconciliation: any;
  auditVerify: { ok: boolean; eventsChecked: number; firstBroken?: { seq: string; reason: string } };
  vouchers: VoucherFile[];
}

export async function checkInvariants(w: World, ev: Evidence): Promise<Check[]> {
  const checks: Check[] = [];
  const refundsByDeposit = new Map<string, any[]>();
  for (const r of ev.refunds) refundsByDeposit.set(r.depositId, [...(refundsByDeposit.get(r.depositId) ?? []), r]);

  // 1. Every deposit (none is forfeited here) goes back in full, once, to the account it came from.
  const depositFailures: string[] = [];
  for (const d of ev.deposits) {
    const rs = refundsByDeposit.get(d.id) ?? [];
    const settled = rs.filter((r) => r.status === 'settled');
    const manual = rs.filter((r) => r.status === 'manual');
    const back = settled.reduce((s, r) => s + fen(r.principal), 0n) + manual.reduce((s, r) => s + fen(r.principal), 0n);
    if (back !== fen(d.amount)) depositFailures.push(`${d.id}: ¥${d.amount} in, ¥${formatAmount(back)} refunded or in manual handling`);
    for (const r of rs) if (r.creditor.number !== d.credit.debtor.accountNumber) depositFailures.push(`${r.id} pays ${r.creditor.number}, not the source ${d.credit.debtor.accountNumber} (R17)`);
  }
  checks.push(check('every deposit refunded in full to its source account', depositFailures, `${ev.deposits.length} deposits, ${ev.refunds.length} refunds`));

  // 2. Never paid twice: one settled attempt per settled refund, none for the others.
  const twice = ev.refunds.filter((r) => r.attempts.filter((a: any) => a.status === 'settled').length !== (r.status === 'settled' ? 1 : 0)).map((r) => `${r.id}: ${r.attempts.filter((a: any) => a.status === 'settled').length} settled attempts`);
  const attempts = ev.refunds.reduce((s, r) => s + r.attempts.length, 0);
  checks.push(check('no refund paid twice', twice, `${attempts} bank attempts for ${ev.refunds.length} refunds, one settled attempt per settled refund`));

  // 3. The bank's books: every account the bidders paid from holds opening − paid + refunded.
  const accounts = w.bidders.flatMap((b) => [b.basic, ...(b.other ? [b.other] : [])].map((a) => ({ b, a })));
  const refundedTo = new Map<string, { total: bigint; count: number }>();
  for (const r of ev.refunds.filter((x) => x.status === 'settled')) {
    const t = refundedTo.get(r.creditor.number) ?? { total: 0n, count: 0 };
    refundedTo.set(r.creditor.number, { total: t.total + fen(r.total), count: t.count + 1 });
  }
  const balanceFailures = (
    await mapLimit(accounts, httpConcurrency, async ({ b, a }) => {
      const acct = await w.sandbox.get(`/sandbox/accounts/${a.number}`);
      const back = refundedTo.get(a.number) ?? { total: 0n, count: 0 };
      const expected = a.openingFen - (b.paidFen.get(a.number) ?? 0n) + back.total;
      const credits = acct.entries.filter((e: any) => e.direction === 'credit').length;
      const out: string[] = [];
      if (fen(acct.balance) !== expected) out.push(`${b.name} ${a.number}: bank balance ¥${acct.balance}, expected ¥${formatAmount(expected)}`);
      if (credits !== back.count) out.push(`${b.name} ${a.number}: ${credits} credits at the bank for ${back.count} settled refunds`);
      return out;
    })
  ).flat();
  checks.push(check('each bidder account: opening − paid + refunded (principal + interest)', balanceFailures, `${accounts.length} accounts at the sandbox bank`));

  // 4. The ledger's trust account equals the bank's, to the fen.
  const trust = await w.sandbox.get(`/sandbox/accounts/${w.trustAccount}`);
  const b = ev.reconciliation.balances;
  const trustFailures = fen(trust.balance) === fen(b.closingLedger) && fen(b.closingBank) === fen(trust.balance) ? [] : [`bank ¥${trust.balance}, statement ¥${b.closingBank}, ledger ¥${b.closingLedger}`];
  checks.push(check('ledger trust balance = sandbox trust account balance', trustFailures, `¥${trust.balance} on both sides`));

  const recFailures = ev.reconciliation.exceptionCount === 0 && fen(b.difference.replace('-', '')) === 0n ? [] : [`${ev.reconciliation.exceptionCount} exceptions, difference ¥${b.difference}`];
  checks.push(check('reconciliation balanced with no exceptions', recFailures, `${ev.reconciliation.matched.count} of ${ev.reconciliation.entries} statement entries matched`));

  checks.push(check('audit chain verifies', ev.auditVerify.ok ? [] : [`broken at ${ev.auditVerify.firstBroken?.seq}: ${ev.auditVerify.firstBroken?.reason}`], `${ev.auditVerify.eventsChecked} events`));

  const badVouchers = ev.vouchers.filter((v) => !v.valid || !v.matchesRecord).map((v) => `${v.id}: valid=${v.valid} matchesRecord=${v.matchesRecord}${v.reason ? ` (${v.reason})` : ''}`);
  checks.push(check('every voucher verifies and matches the record', badVouchers, `${ev.vouchers.length} vouchers`));

  // The story went as planned: the right bidders are secured, the wrong ones are not.
  const entryOf = new Map<string, any>(ev.roster.entries.map((e: any) => [e.bidderId, e]));
  const storyFailures: string[] = [];
  for (const bd of w.bidders) {
    const e = entryOf.get(bd.id);
    const wantRule = expectedUnsecured[bd.behaviour];
    if (!e) storyFailures.push(`${bd.name} (${bd.behaviour}) is not on the roster`);
    else if (!wantRule && e.status !== 'secured') storyFailures.push(`${bd.name} (${bd.behaviour}) is ${e.status} [${e.rules.join(',')}], expected secured`);
    else if (wantRule && (e.status === 'secured' || !e.rules.includes(wantRule))) storyFailures.push(`${bd.name} (${bd.behaviour}) is ${e.status} [${e.rules.join(',')}], expected not secured under ${wantRule}`);
  }
  checks.push(check('roster as the bidders acted', storyFailures, `${ev.roster.entries.length} bidders`));
  return checks;
}
