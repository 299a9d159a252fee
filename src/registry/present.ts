import { formatAmount } from '../domain/money';
import type { BankRow, BidderRow, CertificateRow, IssuerRow, SectionRow, TendereeRow } from './repo';

export const presentTenderee = (r: TendereeRow) => ({ id: r.id, object: 'tenderee' as const, name: r.name, uscc: r.uscc, createdAt: r.created_at.toISOString() });

export const presentBidder = (r: BidderRow) => ({
  id: r.id,
  object: 'bidder' as const,
  name: r.name,
  uscc: r.uscc,
  basicAccount: { bankCode: r.basic_bank_code, number: r.basic_account_number, name: r.basic_account_name },
  createdAt: r.created_at.toISOString(),
});

export const presentCertificate = (c: CertificateRow) => ({
  fingerprint: c.fingerprint,
  subject: c.subject,
  issuer: c.issuer_dn,
  notBefore: c.not_before.toISOString(),
  notAfter: c.not_after.toISOString(),
  retiredAt: c.retired_at ? c.retired_at.toISOString() : null,
});

export const presentIssuer = (r: IssuerRow, certs: CertificateRow[]) => ({
  id: r.id,
  object: 'issuer' as const,
  name: r.name,
  kind: r.kind,
  bankCode: r.bank_code,
  callbackUrl: r.callback_url,
  certificates: certs.map(presentCertificate),
  createdAt: r.created_at.toISOString(),
});

export const presentBank = (r: BankRow, certs: CertificateRow[]) => ({
  id: r.id,
  object: 'bank' as const,
  name: r.name,
  bankCode: r.bank_code,
  adapter: r.adapter,
  endpoint: r.endpoint,
  trustAccount: { number: r.trust_account_number, name: r.trust_account_name },
  virtualAccountPrefix: r.virtual_account_prefix,
  certificates: certs.map(presentCertificate),
  createdAt: r.created_at.toISOString(),
});

export const presentSection = (r: SectionRow) => ({
  id: r.id,
  object: 'section' as const,
  projectCode: r.project_code,
  sectionCode: r.section_code,
  name: r.name,
  tendereeId: r.tenderee_id,
  regime: r.regime,
  estimatedPrice: formatAmount(r.estimated_price_fen),
  depositAmount: formatAmount(r.deposit_amount_fen),
  depositCap: r.deposit_cap_fen === null ? null : formatAmount(r.deposit_cap_fen),
  currency: r.currency,
  bidDeadline: r.bid_deadline.toISOString(),
  bidValidityDays: r.bid_validity_days,
  depositBankId: r.deposit_bank_id,
  acceptedSecurity: r.accepted_security as ('cash' | 'bank' | 'insurance' | 'guarantor')[],
  guaranteeBankMatch: r.guarantee_bank_match,
  creditReductions: r.credit_reductions.map((c) => ({ grade: c.grade, percent: c.percent })),
  status: r.status,
  createdAt: r.created_at.toISOString(),
});
