// The summary a trading-centre manager reads at the end, and the same facts as summary.json.
import { formatAmount, parseAmount } from '../domain/money';
import type { Check } from './invariants';
import { renderSignIns, type DemoSignIn } from './people';
import type { World } from './scenario';
import type { VoucherFile } from './vouchers';

/** What each rule id means, in the words a manager uses. */
export const ruleInWords: Readonly<Record<string, string>> = {
  R2: 'guarantee expires before the bid validity period ends',
  R3: 'paid after the bid deadline',
  R4: 'paid less than the required deposit and never topped up',
  R5: 'paid from an account other than the registered basic account',
  R6: "bank guarantee not issued by the bidder's basic-account bank",
  R7: 'guarantee does not name this tenderee and section',
  R15: 'paid to an unknown sub-account: held in suspense for manual handling',
  R17: 'refund account closed or renamed: paid only after a recorded decision',
};

const reasonInWords: Readonly<Record<string, string>> = {
  contract: 'after the contract (R11)',
  invalid: 'returned: did not secure the bid (R15)',
  excess: 'returned: paid more than required (R4)',
  withdrawal: 'withdrawal (R9)',
  termination: 'termination (R16)',
  award_non_winner: 'non-winners after the award (R11)',
  suspense_return: 'returned from suspense by the centre\'s decision (R15, R17)',
};

const fen = (s: string | null | undefined) => (s ? parseAmount(s, { allowZero: true }) : 0n);
/** ¥1,234,567.89: grouping is for reading only; the amount is still formatted from fen. */
function yuan(f: bigint): string {
  const [int, dec] = formatAmount(f).split('.');
  return `¥${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${dec}`;
}

export interface DemoSummary {
  ok: boolean;
  section: { id: string; projectCode: string; sectionCode: string; bidDeadline: string };
  durationSeconds: number;
  bidders: { total: number; secured: number; securedByCash: number; securedByGuarantee: number; notSecured: number };
  notSecured: { bidderId: string; name: string; status: string; rules: string[]; why: string }[];
  suspense: { virtualAccount: string | undefined; amount: string };
  refunds: { count: number; settled: number; manual: number; principal: string; interest: string; lateFees: string; byReason: Record<string, number>; bankAttempts: number };
  manualRefunds: { refundId: string; bidder: string; amount: string; reason: string }[];
  reconciliation: { id: string; date: string; result: string; entries: number; matched: number; exceptions: number; closingBank: string; closingLedger: string; voucherId: string | null; earlierDaysReconciled: string[] };
  vouchers: { folder: string; count: number; byKind: Record<string, number>; verified: number };
  faults: Record<string, number>;
  /** The console and who can sign in to it (the passwords are in sign-ins.txt, not here). */
  console?: { url: string; signIns: { role: string; who: string; login: string }[]; file: string };
  checks: Check[];
}

export function buildSummary(args: {
  w: World; roster: any; refunds: any[]; reconciliation: { summary: any; caughtUp: string[] }; vouchers: VoucherFile[]; voucherDir: string; checks: Check[]; startedAt: number; faults: Record<string, number>;
}): DemoSummary {
  const { w, roster, refunds, reconciliation: rec, vouchers, checks } = args;
  const nameOf = new Map(w.bidders.map((b) => [b.id, b.name]));
  const secured = roster.entries.filter((e: any) => e.status === 'secured');
  const notSecured = roster.entries
    .filter((e: any) => e.status !== 'secured')
    .map((e: any) => ({ bidderId: e.bidderId, name: e.name, status: e.status, rules: e.rules as string[], why: (e.rules as string[]).map((r) => ruleInWords[r] ?? r).join('; ') || e.status }));
  const settled = refunds.filter((r) => r.status === 'settled');
  const byReason: Record<string, number> = {};
  for (const r of refunds) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
  const byKind: Record<string, number> = {};
  for (const v of vouchers) byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
  return {
    ok: checks.every((c) => c.ok),
    section: w.section,
    durationSeconds: Math.round((Date.now() - args.startedAt) / 100) / 10,
    bidders: {
      total: roster.entries.length,
      secured: secured.length,
      securedByCash: secured.filter((e: any) => e.security === 'cash').length,
      securedByGuarantee: secured.filter((e: any) => e.security === 'guarantee').length,
      notSecured: notSecured.length,
    },
    notSecured,
    suspense: { virtualAccount: w.suspenseVirtualAccount, amount: w.suspenseVirtualAccount ? '50000.00' : '0.00' },
    refunds: {
      count: refunds.length,
      settled: settled.length,
      manual: refunds.filter((r) => r.status === 'manual').length,
      principal: formatAmount(settled.reduce((s, r) => s + fen(r.principal), 0n)),
      interest: formatAmount(settled.reduce((s, r) => s + fen(r.interest), 0n)),
      lateFees: formatAmount(settled.reduce((s, r) => s + fen(r.lateFee), 0n)),
      byReason,
      bankAttempts: refunds.reduce((s, r) => s + r.attempts.length, 0),
    },
    manualRefunds: refunds
      .filter((r) => r.status === 'manual')
      .map((r) => ({ refundId: r.id, bidder: nameOf.get(r.bidderId) ?? r.bidderId, amount: r.principal, reason: r.manualReason ?? `rejected by the bank (${r.lastReasonCode ?? 'no code'})` })),
    reconciliation: {
      id: rec.summary.id, date: rec.summary.statementDate, result: rec.summary.result, entries: rec.summary.entries, matched: rec.summary.matched.count, exceptions: rec.summary.exceptionCount,
      closingBank: rec.summary.balances.closingBank, closingLedger: rec.summary.balances.closingLedger, voucherId: rec.summary.voucherId, earlierDaysReconciled: rec.caughtUp,
    },
    vouchers: { folder: args.voucherDir, count: vouchers.length, byKind, verified: vouchers.filter((v) => v.valid && v.matchesRecord).length },
    faults: args.faults,
    checks,
  };
}

/** Rejected bidders listed by name up to this many per rule; the rest are counted. */
const namesPerRuleMax = 4;

export function renderSummary(s: DemoSummary, signIns: DemoSignIn[] = []): string {
  const out: string[] = [];
  const add = (t = '') => out.push(t);
  add();
  add(`════ Section ${s.section.sectionCode} (${s.section.id}) — summary ════`);
  add(`Bidders: ${s.bidders.total}; secured ${s.bidders.secured} (${s.bidders.securedByCash} by cash deposit, ${s.bidders.securedByGuarantee} by guarantee); not secured ${s.bidders.notSecured}.`);
  const byRule = new Map<string, typeof s.notSecured>();
  for (const n of s.notSecured) for (const r of n.rules.length ? n.rules : [n.status]) byRule.set(r, [...(byRule.get(r) ?? []), n]);
  for (const [rule, list] of [...byRule.entries()].sort()) {
    const names = list.slice(0, namesPerRuleMax).map((n) => n.name).join('、') + (list.length > namesPerRuleMax ? ` and ${list.length - namesPerRuleMax} more` : '');
    add(`  ${rule} ×${list.length}: ${ruleInWords[rule] ?? rule} — ${names}`);
  }
  if (s.suspense.virtualAccount) add(`  R15 ×1: ¥${s.suspense.amount} paid to unknown sub-account ${s.suspense.virtualAccount} was held in suspense, then returned to its source by the centre's recorded decision.`);
  add();
  add(`Refunds: ${s.refunds.count} (${Object.entries(s.refunds.byReason).map(([r, n]) => `${n} ${reasonInWords[r] ?? r}`).join(', ')}).`);
  add(`  paid: ${s.refunds.settled}; principal ${yuan(fen(s.refunds.principal))}, interest ${yuan(fen(s.refunds.interest))}${fen(s.refunds.lateFees) ? `, late fees ${yuan(fen(s.refunds.lateFees))}` : ''}; ${s.refunds.bankAttempts} bank attempts with faults on (${Object.entries(s.faults).map(([k, v]) => `${k} ${v}`).join(', ')}).`);
  if (fen(s.refunds.interest) === 0n) add('  interest is zero because every deposit came back the day it was paid: R13 counts days from the credit\'s value date.');
  for (const m of s.manualRefunds) add(`  manual handling: ${m.bidder}, ¥${m.amount}: ${m.reason}. The money stays in the trust account until the centre records a decision (POST /v1/refunds/${m.refundId}/retry).`);
  add();
  const r = s.reconciliation;
  add(`Reconciliation ${r.date} (${r.id}): ${r.result}; ${r.matched} of ${r.entries} statement entries matched, ${r.exceptions} exceptions; bank ${yuan(fen(r.closingBank))}, ledger ${yuan(fen(r.closingLedger))}.`);
  add();
  add(`Vouchers: ${s.vouchers.count} signed PDFs (${Object.entries(s.vouchers.byKind).map(([k, n]) => `${n} ${k}`).join(', ')}), ${s.vouchers.verified} verified, in ${s.vouchers.folder}`);
  add();
  if (s.console && signIns.length) {
    add(renderSignIns(s.console.url, signIns, s.console.file));
    add();
  }
  add('Checks:');
  for (const c of s.checks) add(`  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`);
  add();
  add(s.ok ? `All checks passed in ${s.durationSeconds} s.` : `FAILED: ${s.checks.filter((c) => !c.ok).length} check(s) did not hold (${s.durationSeconds} s).`);
  return out.join('\n') + '\n';
}
