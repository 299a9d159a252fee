// Queries on the parties and the things bid on; each takes the unit of work.
import type { Tx } from '../db/knex';
import { columnList, run, statement } from '../db/statements';
import type { CreditReduction } from '../domain/creditReduction';

export interface SectionRow {
  id: string;
  project_code: string;
  section_code: string;
  name: string;
  tenderee_id: string;
  regime: 'tendering_law' | 'government_procurement';
  estimated_price_fen: bigint;
  deposit_amount_fen: bigint;
  deposit_cap_fen: bigint | null;
  currency: 'CNY';
  bid_deadline: Date;
  bid_validity_days: number;
  deposit_bank_id: string | null;
  accepted_security: string[];
  guarantee_bank_match: 'bank' | 'branch' | 'off';
  /** Reductions of the security by credit grade, declared at creation (jsonb). */
  credit_reductions: CreditReduction[];
  status: string;
  created_at: Date;
  /** The lifecycle (sections/): who won, and when each move was made; null until it is. */
  winner_bidder_id: string | null;
  opened_at: Date | null;
  evaluation_report_at: Date | null;
  award_notice_at: Date | null;
  contract_signed_at: Date | null;
  terminated_at: Date | null;
  termination_reason: string | null;
}

/** Every column of a section, for prepared statements that read one (db/statements.ts columnList). */
export const sectionColumns: { [K in keyof SectionRow]: true } = {
  id: true, project_code: true, section_code: true, name: true, tenderee_id: true, regime: true, estimated_price_fen: true, deposit_amount_fen: true, deposit_cap_fen: true,
  currency: true, bid_deadline: true, bid_validity_days: true, deposit_bank_id: true, accepted_security: true, guarantee_bank_match: true, credit_reductions: true, status: true,
  created_at: true, winner_bidder_id: true, opened_at: true, evaluation_report_at: true, award_notice_at: true, contract_signed_at: true, terminated_at: true, termination_reason: true,
};

type SectionLifecycleColumn = 'status' | 'created_at' | 'winner_bidder_id' | 'opened_at' | 'evaluation_report_at' | 'award_notice_at' | 'contract_signed_at' | 'terminated_at' | 'termination_reason';

export interface BidderRow {
  id: string;
  name: string;
  uscc: string;
  basic_bank_code: string;
  basic_account_number: string;
  basic_account_name: string;
  created_at: Date;
}

export interface IssuerRow {
  id: string;
  name: string;
  kind: 'bank' | 'insurance' | 'guarantor';
  bank_code: string | null;
  callback_url: string | null;
  created_at: Date;
}

export interface BankRow {
  id: string;
  name: string;
  bank_code: string;
  adapter: 'iso20022' | 'cn-h2h' | 'sandbox';
  endpoint: string;
  trust_account_number: string;
  trust_account_name: string;
  virtual_account_prefix: string;
  created_at: Date;
}

export interface TendereeRow {
  id: string;
  name: string;
  uscc: string;
  created_at: Date;
}

export interface CertificateRow {
  fingerprint: string;
  owner_type: 'issuer' | 'bank';
  owner_id: string;
  pem: string;
  subject: string;
  issuer_dn: string;
  serial_number: string;
  not_before: Date;
  not_after: Date;
  retired_at: Date | null;
}

export const findSection = (tx: Tx, id: string) => tx<SectionRow>('sections').where({ id }).first();
export const findSectionForUpdate = (tx: Tx, id: string) => tx<SectionRow>('sections').where({ id }).forUpdate().first();
export const findSectionByCodes = (tx: Tx, projectCode: string, sectionCode: string) =>
  tx<SectionRow>('sections').where({ project_code: projectCode, section_code: sectionCode }).first();
export const findBidder = (tx: Tx, id: string) => tx<BidderRow>('bidders').where({ id }).first();
export const findBidderByUscc = (tx: Tx, uscc: string) => tx<BidderRow>('bidders').where({ uscc }).first();
export const findTenderee = (tx: Tx, id: string) => tx<TendereeRow>('tenderees').where({ id }).first();
export const findIssuer = (tx: Tx, id: string) => tx<IssuerRow>('issuers').where({ id }).first();
/** The columns of a bank's row, for statements of other modules that read it along with their
 *  own (a signed call's certificate). */
export const bankRowColumns: { [K in keyof BankRow & string]: true } = {
  id: true, name: true, bank_code: true, adapter: true, endpoint: true, trust_account_number: true, trust_account_name: true, virtual_account_prefix: true, created_at: true,
};
// Read by notifications and jobs of a bank: a prepared statement (db/statements.ts).
const bankById = statement('registry.bankById', `SELECT ${columnList<BankRow>(null, bankRowColumns)} FROM banks WHERE id = $1`);
export const findBank = async (tx: Tx, id: string): Promise<BankRow | undefined> => (await run<BankRow>(tx, bankById, [id]))[0];
export const certificatesOf = (tx: Tx, ownerType: 'issuer' | 'bank', ownerId: string) =>
  tx<CertificateRow>('certificates').where({ owner_type: ownerType, owner_id: ownerId }).orderBy('added_at');
/** Valid, unretired certificates of an owner (for signing checks and rotation). */
export const activeCertificatesOf = (tx: Tx, ownerType: 'issuer' | 'bank', ownerId: string, at: Date) =>
  tx<CertificateRow>('certificates')
    .where({ owner_type: ownerType, owner_id: ownerId })
    .whereNull('retired_at')
    .where('not_before', '<=', at)
    .where('not_after', '>=', at);

export const issuersQuery = (tx: Tx) => tx<IssuerRow>('issuers');
/** Bank issuers in id order, at most `limit` (for naming the ones that qualify under R6). */
export const bankIssuers = (tx: Tx, limit: number) => tx<IssuerRow>('issuers').where({ kind: 'bank' }).orderBy('id').limit(limit) as unknown as Promise<IssuerRow[]>;
export const banksQuery = (tx: Tx) => tx<BankRow>('banks');

export function sectionsQuery(tx: Tx, filter: { status?: string; tendereeId?: string }) {
  const q = tx<SectionRow>('sections');
  if (filter.status) q.where('status', filter.status);
  if (filter.tendereeId) q.where('tenderee_id', filter.tendereeId);
  return q;
}

/** Inserts unless a row with the same `conflictColumn` exists; false when one did. Not a
 *  try/catch on the unique violation: that would abort the whole transaction. */
export async function insertUnlessExists(tx: Tx, table: 'tenderees' | 'bidders' | 'banks', row: Record<string, unknown>, conflictColumn: string): Promise<boolean> {
  const inserted = await tx(table).insert(row).onConflict(conflictColumn).ignore().returning('id');
  return inserted.length > 0;
}

export async function insertIssuer(tx: Tx, row: Omit<IssuerRow, 'created_at'>): Promise<void> {
  await tx('issuers').insert(row);
}

export async function insertCertificate(tx: Tx, row: Omit<CertificateRow, 'retired_at'>): Promise<boolean> {
  const inserted = await tx('certificates').insert(row).onConflict('fingerprint').ignore().returning('fingerprint');
  return inserted.length > 0;
}

export async function retireCertificate(tx: Tx, owner: { type: 'issuer' | 'bank'; id: string }, fingerprint: string): Promise<boolean> {
  const n = await tx('certificates')
    .where({ fingerprint, owner_type: owner.type, owner_id: owner.id })
    .whereNull('retired_at')
    .update({ retired_at: tx.fn.now() });
  return n > 0;
}

export async function insertSection(tx: Tx, row: Omit<SectionRow, SectionLifecycleColumn>): Promise<boolean> {
  const inserted = await tx('sections').insert({ ...row, credit_reductions: JSON.stringify(row.credit_reductions) }).onConflict(['project_code', 'section_code']).ignore().returning('id');
  return inserted.length > 0;
}
