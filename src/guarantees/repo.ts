// Queries on guarantees, applications and issuer messages; each takes the unit of work.
import { toJsonSafe } from '../audit/canonical';
import type { Tx } from '../db/knex';
import type { RuleCheck } from '../domain/rules';
import type { GuaranteeKind, GuaranteeStatus } from './rules';

export interface GuaranteeRow {
  id: string;
  issuer_id: string;
  number: string;
  kind: GuaranteeKind;
  status: GuaranteeStatus;
  application_id: string | null;
  section_id: string;
  bidder_id: string;
  applicant_uscc: string;
  applicant_name: string;
  beneficiary_uscc: string;
  beneficiary_name: string;
  project_code: string;
  section_code: string;
  amount_fen: bigint;
  currency: 'CNY';
  valid_from: string;
  valid_to: string;
  issuing_bank_code: string | null;
  issued_at: Date;
  document_sha256: string;
  checks: RuleCheck[];
  event_id: string;
  certificate_fingerprint: string;
  claim_reason: string | null;
  claim_amount_fen: bigint | null;
  claimed_by: string | null;
  claimed_at: Date | null;
  release_reason: string | null;
  released_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type ApplicationStatus = 'submitted' | 'sent' | 'issued' | 'declined' | 'refused';
export interface ApplicationRow {
  id: string;
  section_id: string;
  bidder_id: string;
  issuer_id: string;
  kind: GuaranteeKind;
  status: ApplicationStatus;
  guarantee_id: string | null;
  decline_reason: string | null;
  requested_by_type: string;
  requested_by_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface IssuerMessageRow {
  id: string;
  issuer_id: string;
  kind: 'application' | 'claim' | 'release';
  subject_id: string;
  url: string;
  body: string;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const findGuarantee = (tx: Tx, id: string) => tx<GuaranteeRow>('guarantees').where({ id }).first();
export const findGuaranteeForUpdate = (tx: Tx, id: string) => tx<GuaranteeRow>('guarantees').where({ id }).forUpdate().first();
export const findGuaranteeByNumber = (tx: Tx, issuerId: string, number: string) =>
  tx<GuaranteeRow>('guarantees').where({ issuer_id: issuerId, number }).first();
export const findGuaranteeByNumberForUpdate = (tx: Tx, issuerId: string, number: string) =>
  tx<GuaranteeRow>('guarantees').where({ issuer_id: issuerId, number }).forUpdate().first();
export const findLiveGuarantee = (tx: Tx, sectionId: string, bidderId: string) =>
  tx<GuaranteeRow>('guarantees').where({ section_id: sectionId, bidder_id: bidderId }).whereNotIn('status', ['rejected', 'cancelled', 'expired']).first();
export const guaranteesOfSectionForUpdate = (tx: Tx, sectionId: string) =>
  tx<GuaranteeRow>('guarantees').where({ section_id: sectionId }).orderBy('id').forUpdate();

export async function updateGuaranteeStatus(tx: Tx, id: string, from: GuaranteeStatus, to: GuaranteeStatus, extra: Partial<GuaranteeRow> = {}): Promise<boolean> {
  const n = await tx('guarantees').where({ id, status: from }).update({ ...extra, status: to, updated_at: tx.fn.now() });
  return n === 1;
}

export async function recordGuaranteeEvent(tx: Tx, e: { guaranteeId: string; type: string; from: string; to: string; eventId: string; data: Record<string, unknown> }) {
  await tx('guarantee_events').insert({ guarantee_id: e.guaranteeId, type: e.type, from_status: e.from, to_status: e.to, event_id: e.eventId, data: JSON.stringify(toJsonSafe(e.data)) });
}

export const findApplication = (tx: Tx, id: string) => tx<ApplicationRow>('guarantee_applications').where({ id }).first();
export const findApplicationForUpdate = (tx: Tx, id: string) => tx<ApplicationRow>('guarantee_applications').where({ id }).forUpdate().first();

export const findMessage = (tx: Tx, id: string) => tx<IssuerMessageRow>('issuer_messages').where({ id }).first();
export const attemptsOf = (tx: Tx, messageId: string) => tx('issuer_message_attempts').where({ message_id: messageId }).orderBy('attempt');
