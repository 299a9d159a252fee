// SQL of the statistics: one aggregate per measure, grouped by the key the caller asked for.
// Each measure is counted where it is recorded: sections and secured bids in the roster fixed at
// opening, guarantees in their records, deposits received and forfeitures in the ledger,
// refunds in their settled records, claims paid in the issuers' events.
import type { Tx } from '../db/knex';

export type GroupBy = 'month' | 'tenderee' | 'bank' | 'issuer' | 'regime' | 'none';

/** The period: instants for timestamps, inclusive business dates for date columns. */
export interface Period {
  fromAt: Date;
  toAt: Date;
  fromDate: string;
  toDate: string;
}

/** How each measure finds its group: the time its fact happened and the records around it. */
interface KeySources {
  at: string;
  tenderee: string;
  bank: string;
  issuer: string;
  regime: string;
}

const monthOf = (at: string) => `to_char(${at} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')`;

function keyExpr(groupBy: GroupBy, k: KeySources): string {
  switch (groupBy) {
    case 'month':
      return k.at.startsWith('date:') ? `to_char(${k.at.slice(5)}, 'YYYY-MM')` : monthOf(k.at);
    case 'tenderee':
      return k.tenderee;
    case 'bank':
      return k.bank;
    case 'issuer':
      return k.issuer;
    case 'regime':
      return k.regime;
    case 'none':
      return `'all'`;
  }
}

const inPeriod = (col: string) => `${col} >= :fromAt AND ${col} < :toAt`;
const bindings = (p: Period) => ({ fromAt: p.fromAt, toAt: p.toAt, fromDate: p.fromDate, toDate: p.toDate });

export interface SectionRow { key: string | null; count: bigint }
export async function sectionsOpened(tx: Tx, g: GroupBy, p: Period): Promise<SectionRow[]> {
  const key = keyExpr(g, { at: 'r.opened_at', tenderee: 's.tenderee_id', bank: 's.deposit_bank_id', issuer: 'NULL::text', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, count(*) AS count FROM rosters r JOIN sections s ON s.id = r.section_id WHERE ${inPeriod('r.opened_at')} GROUP BY 1`,
    bindings(p),
  );
  return rows;
}

/** Sections by a moment of their lifecycle: created (published for bids) or terminated (R16). */
export async function sectionsAt(tx: Tx, g: GroupBy, p: Period, column: 'created_at' | 'terminated_at'): Promise<SectionRow[]> {
  const key = keyExpr(g, { at: `s.${column}`, tenderee: 's.tenderee_id', bank: 's.deposit_bank_id', issuer: 'NULL::text', regime: 's.regime' });
  const { rows } = await tx.raw(`SELECT ${key} AS key, count(*) AS count FROM sections s WHERE ${inPeriod(`s.${column}`)} GROUP BY 1`, bindings(p));
  return rows;
}

export interface BidRow { key: string | null; security: 'cash' | 'guarantee'; count: bigint; amount_fen: bigint }
/** Bids the roster shows secured, by what secured them: a cash bid counts the deposit the
 *  roster credited, a guarantee bid the guarantee's face amount. */
export async function securedBids(tx: Tx, g: GroupBy, p: Period): Promise<BidRow[]> {
  const key = keyExpr(g, { at: 'r.opened_at', tenderee: 's.tenderee_id', bank: 's.deposit_bank_id', issuer: 'gt.issuer_id', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, e->>'security' AS security, count(*) AS count,
            coalesce(sum(CASE WHEN e->>'security' = 'guarantee' THEN gt.amount_fen ELSE (e->>'amountFen')::bigint END), 0)::bigint AS amount_fen
       FROM rosters r JOIN sections s ON s.id = r.section_id
       CROSS JOIN LATERAL jsonb_array_elements(r.entries) e
       LEFT JOIN guarantees gt ON gt.id = e->>'guaranteeId'
      WHERE ${inPeriod('r.opened_at')} AND e->>'status' = 'secured' AND e->>'security' IN ('cash', 'guarantee')
      GROUP BY 1, 2`,
    bindings(p),
  );
  return rows;
}

export interface GuaranteeRow { key: string | null; kind: 'bank' | 'insurance' | 'guarantor'; issued: bigint; amount_fen: bigint; rejected: bigint }
export async function guaranteesByKind(tx: Tx, g: GroupBy, p: Period): Promise<GuaranteeRow[]> {
  const key = keyExpr(g, { at: 'gt.issued_at', tenderee: 's.tenderee_id', bank: 's.deposit_bank_id', issuer: 'gt.issuer_id', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, gt.kind, count(*) FILTER (WHERE gt.status <> 'rejected') AS issued,
            coalesce(sum(gt.amount_fen) FILTER (WHERE gt.status <> 'rejected'), 0)::bigint AS amount_fen,
            count(*) FILTER (WHERE gt.status = 'rejected') AS rejected
       FROM guarantees gt JOIN sections s ON s.id = gt.section_id
      WHERE ${inPeriod('gt.issued_at')}
      GROUP BY 1, 2`,
    bindings(p),
  );
  return rows;
}

export interface AmountRow { key: string | null; count: bigint; amount_fen: bigint }
/** Cash received for bids, from the ledger: every credit journal's posting to a deposit's
 *  account (suspense credits, owed to nobody yet, are not deposits). */
export async function depositsReceived(tx: Tx, g: GroupBy, p: Period): Promise<AmountRow[]> {
  const key = keyExpr(g, { at: 'j.posted_at', tenderee: 's.tenderee_id', bank: 'la.bank_id', issuer: 'NULL::text', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, count(DISTINCT la.deposit_id) AS count, coalesce(-sum(p.amount_fen), 0)::bigint AS amount_fen
       FROM journals j JOIN postings p ON p.journal_id = j.id
       JOIN ledger_accounts la ON la.code = p.account AND la.deposit_id IS NOT NULL
       JOIN deposits d ON d.id = la.deposit_id
       LEFT JOIN sections s ON s.id = d.section_id
      WHERE j.kind = 'credit' AND ${inPeriod('j.posted_at')}
      GROUP BY 1`,
    bindings(p),
  );
  return rows;
}

/** Forfeited deposits, from the ledger: what the forfeiture journals owe the tenderee. */
export async function forfeitures(tx: Tx, g: GroupBy, p: Period): Promise<AmountRow[]> {
  const key = keyExpr(g, { at: 'j.posted_at', tenderee: 's.tenderee_id', bank: 's.deposit_bank_id', issuer: 'NULL::text', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, count(DISTINCT j.id) AS count, coalesce(-sum(p.amount_fen), 0)::bigint AS amount_fen
       FROM journals j JOIN postings p ON p.journal_id = j.id
       JOIN ledger_accounts la ON la.code = p.account AND la.section_id IS NOT NULL AND la.deposit_id IS NULL
       JOIN sections s ON s.id = la.section_id
      WHERE j.kind = 'forfeiture' AND p.account LIKE 'section:%:forfeit' AND ${inPeriod('j.posted_at')}
        AND NOT EXISTS (SELECT 1 FROM journals rv WHERE rv.reverses_journal_id = j.id)
      GROUP BY 1`,
    bindings(p),
  );
  return rows;
}

export async function claimsPaid(tx: Tx, g: GroupBy, p: Period): Promise<AmountRow[]> {
  const key = keyExpr(g, { at: 'ge.created_at', tenderee: 's.tenderee_id', bank: 's.deposit_bank_id', issuer: 'gt.issuer_id', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, count(*) AS count, coalesce(sum((ge.data->>'amountFen')::bigint), 0)::bigint AS amount_fen
       FROM guarantee_events ge JOIN guarantees gt ON gt.id = ge.guarantee_id JOIN sections s ON s.id = gt.section_id
      WHERE ge.type = 'claim_paid' AND ${inPeriod('ge.created_at')}
      GROUP BY 1`,
    bindings(p),
  );
  return rows;
}

/** Refund reasons R11 sets the due date of (after the award and the contract). */
export const r11Reasons = ['contract', 'award_non_winner'] as const;

export interface RefundRow {
  key: string | null;
  count: bigint;
  principal_fen: bigint;
  interest_fen: bigint;
  late_fee_fen: bigint;
  on_time: bigint;
  late: bigint;
  r11_on_time: bigint;
  r11_late: bigint;
  days_held_mean: string | null;
  days_held_p95: string | null;
}
/** Refunds paid in the period (by the value date the money reached the payer), whether the bank
 *  later sent the payment back or not: the money was paid, on time or late against its due
 *  date, after being held from the credit's value date. */
export async function refundsPaid(tx: Tx, g: GroupBy, p: Period): Promise<RefundRow[]> {
  const key = keyExpr(g, { at: 'date:r.value_date', tenderee: 's.tenderee_id', bank: 'r.bank_id', issuer: 'NULL::text', regime: 's.regime' });
  const { rows } = await tx.raw(
    `SELECT ${key} AS key, count(*) AS count,
            sum(r.principal_fen)::bigint AS principal_fen, sum(r.interest_fen)::bigint AS interest_fen, sum(r.late_fee_fen)::bigint AS late_fee_fen,
            count(*) FILTER (WHERE r.value_date <= r.due_by) AS on_time,
            count(*) FILTER (WHERE r.value_date > r.due_by) AS late,
            count(*) FILTER (WHERE r.reason = ANY(:r11) AND r.value_date <= r.due_by) AS r11_on_time,
            count(*) FILTER (WHERE r.reason = ANY(:r11) AND r.value_date > r.due_by) AS r11_late,
            round(avg(r.value_date - c.value_date)::numeric, 1)::text AS days_held_mean,
            round((percentile_cont(0.95) WITHIN GROUP (ORDER BY r.value_date - c.value_date))::numeric, 1)::text AS days_held_p95
       FROM refunds r JOIN deposits d ON d.id = r.deposit_id JOIN credits c ON c.id = d.credit_id
       LEFT JOIN sections s ON s.id = r.section_id
      WHERE r.settled_at IS NOT NULL AND r.value_date >= :fromDate AND r.value_date <= :toDate
      GROUP BY 1`,
    { ...bindings(p), r11: [...r11Reasons] },
  );
  return rows;
}

export async function namesOf(tx: Tx, groupBy: GroupBy, ids: string[]): Promise<Map<string, string>> {
  const table = groupBy === 'tenderee' ? 'tenderees' : groupBy === 'bank' ? 'banks' : groupBy === 'issuer' ? 'issuers' : undefined;
  if (!table || ids.length === 0) return new Map();
  const rows: { id: string; name: string }[] = await tx(table).select('id', 'name').whereIn('id', ids);
  return new Map(rows.map((r) => [r.id, r.name]));
}
