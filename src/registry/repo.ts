import type { Tx } from '../db/knex';

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
  status: string;
  created_at: Date;
}

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
export const findBidder = (tx: Tx, id: string) => tx<BidderRow>('bidders').where({ id }).first();
export const findBidderByUscc = (tx: Tx, uscc: string) => tx<BidderRow>('bidders').where({ uscc }).first();
export const findTenderee = (tx: Tx, id: string) => tx<TendereeRow>('tenderees').where({ id }).first();
export const findIssuer = (tx: Tx, id: string) => tx<IssuerRow>('issuers').where({ id }).first();
export const findBank = (tx: Tx, id: string) => tx<BankRow>('banks').where({ id }).first();
export const certificatesOf = (tx: Tx, ownerType: 'issuer' | 'bank', ownerId: string) =>
  tx<CertificateRow>('certificates').where({ owner_type: ownerType, owner_id: ownerId }).orderBy('added_at');
/** Valid, unretired certificates of an owner (for signing checks and rotation). */
export const activeCertificatesOf = (tx: Tx, ownerType: 'issuer' | 'bank', ownerId: string, at: Date) =>
  tx<CertificateRow>('certificates')
    .where({ owner_type: ownerType, owner_id: ownerId })
    .whereNull('retired_at')
    .where('not_before', '<=', at)
    .where('not_after', '>=', at);
