// Pure checks of a statement as a whole: its own arithmetic, its place in the account's sequence
// of statements, and its closing balance against the ledger's. Each finding becomes an exception
// for a person, with the facts both sides stated.
import type { StatementSummary } from '../banks/types';
import { formatAmount } from '../domain/money';

export interface StatementFinding {
  kind: 'balance_mismatch' | 'sequence_repeat' | 'sequence_gap' | 'ledger_balance_difference';
  entryRef: string;
  amountFen: bigint;
  detail: string;
  data: Record<string, string>;
}

const abs = (x: bigint) => (x < 0n ? -x : x);

/** Opening + credits − debits must give the closing balance. A statement that does not add up
 *  is not evidence enough to create deposits from: no credit is recovered from it. */
export function checkStatementArithmetic(s: StatementSummary): { ok: true } | { ok: false; finding: StatementFinding } {
  const computedClosingFen = s.openingBalanceFen + s.creditTotalFen - s.debitTotalFen;
  if (computedClosingFen === s.closingBalanceFen) return { ok: true };
  return {
    ok: false,
    finding: {
      kind: 'balance_mismatch', entryRef: s.statementId, amountFen: abs(computedClosingFen - s.closingBalanceFen),
      detail: `opening ${formatAmount(s.openingBalanceFen)} + credits ${formatAmount(s.creditTotalFen)} − debits ${formatAmount(s.debitTotalFen)} = ${formatAmount(computedClosingFen)}, but the statement's closing balance is ${formatAmount(s.closingBalanceFen)}; no credit was recovered from it`,
      data: { opening: formatAmount(s.openingBalanceFen), credits: formatAmount(s.creditTotalFen), debits: formatAmount(s.debitTotalFen), computedClosing: formatAmount(computedClosingFen), statedClosing: formatAmount(s.closingBalanceFen) },
    },
  };
}

export const sequenceNumberPattern = /^\d{1,18}$/;

/** ElctrncSeqNb counts an account's statements: the next day's is one more. A number seen on
 *  another day's statement is a repeat; a jump (or a step back) means a statement is missing.
 *  `repeat` is another day's statement with the same number, `previous` the latest earlier one. */
export function checkStatementSequence(
  seq: string | undefined,
  statementRef: string,
  repeat: { id: string; date: string } | undefined,
  previous: { sequenceNumber: string; date: string } | undefined,
): StatementFinding | undefined {
  if (!seq || !sequenceNumberPattern.test(seq)) return undefined;
  if (repeat) {
    return { kind: 'sequence_repeat', entryRef: statementRef, amountFen: 0n, detail: `sequence number ${seq} was already used by the statement of ${repeat.date} (${repeat.id})`, data: { sequenceNumber: seq, otherReconciliationId: repeat.id } };
  }
  if (!previous || !sequenceNumberPattern.test(previous.sequenceNumber) || BigInt(seq) === BigInt(previous.sequenceNumber) + 1n) return undefined;
  return {
    kind: 'sequence_gap', entryRef: statementRef, amountFen: 0n,
    detail: `sequence number ${seq} follows ${previous.sequenceNumber} (statement of ${previous.date}); expected ${BigInt(previous.sequenceNumber) + 1n}`,
    data: { sequenceNumber: seq, previousSequenceNumber: previous.sequenceNumber, previousDate: previous.date },
  };
}

/** The trust account in the ledger must equal the statement's closing balance (DESIGN "Money"). */
export function checkClosingBalance(statementRef: string, date: string, bankClosingFen: bigint, ledgerClosingFen: bigint): StatementFinding | undefined {
  if (ledgerClosingFen === bankClosingFen) return undefined;
  const diff = bankClosingFen - ledgerClosingFen;
  return {
    kind: 'ledger_balance_difference', entryRef: statementRef, amountFen: abs(diff),
    detail: `bank closing balance ${formatAmount(bankClosingFen)}, ledger trust balance at end of ${date} ${formatAmount(ledgerClosingFen)} (bank − ledger ${formatAmount(diff)})`,
    data: { bankClosing: formatAmount(bankClosingFen), ledgerClosing: formatAmount(ledgerClosingFen), difference: formatAmount(diff) },
  };
}
