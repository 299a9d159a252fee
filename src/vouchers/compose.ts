// What a voucher shows. Each capability freezes the facts of its event when it asks for the
// voucher; the parties' identities (names, codes) are looked up here, at render time, from
// records that never change once written.
import type { Tx } from '../db/knex';
import type { AppDeps } from '../http/deps';
import type { SectionIdentity, VoucherInput } from './input';
import * as repo from './repo';

type Data = Record<string, any>;

/** Amounts were frozen as decimal strings of fen (jsonb has no bigint); keys ending in `Fen`
 *  are read back as bigint, exactly. */
export function reviveFen(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => reviveFen(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, reviveFen(v, k)]));
  }
  if (key.endsWith('Fen') && typeof value === 'string' && /^-?\d{1,19}$/.test(value)) return BigInt(value);
  return value;
}

export function verifyUrlFor(deps: Pick<AppDeps, 'config'>, voucherId: string): string {
  const base = deps.config.BIDBOND_PUBLIC_URL ?? `http://${deps.config.HOST}:${deps.config.PORT}`;
  return `${base.replace(/\/$/, '')}/verify/${voucherId}`;
}

/** Everything the renderer needs for a voucher on record. */
export async function composeVoucherInput(deps: Pick<AppDeps, 'config' | 'db'>, row: repo.VoucherRow): Promise<VoucherInput> {
  return {
    kind: row.kind,
    voucherId: row.id,
    issuedAt: row.created_at.toISOString(),
    centre: { name: deps.config.BIDBOND_CENTRE_NAME },
    section: await sectionIdentity(deps.db, row.section_id),
    verifyUrl: verifyUrlFor(deps, row.id),
    recordSha256: row.record_sha256,
    data: await composeVoucherData(deps.db, row.kind, reviveFen(row.data) as Record<string, unknown>, row.created_at),
  } as VoucherInput;
}

async function sectionIdentity(tx: Tx, sectionId: string | null): Promise<SectionIdentity | undefined> {
  if (!sectionId) return undefined;
  const s = await repo.findSectionIdentity(tx, sectionId);
  if (!s) return undefined;
  return { projectCode: s.project_code, sectionCode: s.section_code, sectionName: s.name, tenderee: { name: s.tenderee_name, uscc: s.tenderee_uscc } };
}

async function party(tx: Tx, table: 'bidders' | 'tenderees', id: unknown) {
  const row = typeof id === 'string' ? await repo.findParty(tx, table, id) : undefined;
  return row ? { name: row.name, uscc: row.uscc } : { name: '—' };
}

async function guaranteeIdentity(tx: Tx, guaranteeId: string, frozen: Data) {
  const g = await repo.findGuaranteeIdentity(tx, guaranteeId);
  const i = g ? await repo.findIssuerIdentity(tx, g.issuer_id) : undefined;
  return {
    guarantee: {
      number: String(frozen.number ?? g?.number ?? ''),
      kind: (frozen.kind ?? g?.kind) as 'bank' | 'insurance' | 'guarantor',
      amountFen: (frozen.guaranteeAmountFen ?? frozen.amountFen ?? g?.amount_fen ?? 0n) as bigint,
      validFrom: String(frozen.validFrom ?? g?.valid_from ?? ''),
      validTo: String(frozen.validTo ?? g?.valid_to ?? ''),
      issuedAt: g ? g.issued_at.toISOString() : '',
      applicant: { name: g?.applicant_name ?? '—', uscc: g?.applicant_uscc },
      beneficiary: { name: g?.beneficiary_name ?? '—', uscc: g?.beneficiary_uscc },
      projectCode: g?.project_code ?? '',
      sectionCode: g?.section_code ?? '',
      status: String(frozen.status ?? g?.status ?? ''),
      ...(frozen.documentSha256 ?? g?.document_sha256 ? { documentSha256: String(frozen.documentSha256 ?? g?.document_sha256) } : {}),
    },
    issuer: {
      name: i?.name ?? '—',
      kind: (i?.kind ?? 'bank') as 'bank' | 'insurance' | 'guarantor',
      ...(i?.bank_code ? { bankCode: i.bank_code } : {}),
      ...(g?.certificate_fingerprint ? { certificateFingerprint: g.certificate_fingerprint } : {}),
    },
  };
}

/** Builds the kind's data from what was frozen at the event. Kinds whose callers freeze the
 *  full layout data (rosters, refunds, reconciliations) pass through unchanged. */
export async function composeVoucherData(tx: Tx, kind: VoucherInput['kind'], data: Data, createdAt: Date): Promise<VoucherInput['data']> {
  switch (kind) {
    case 'deposit_receipt': {
      if (data.bidder && data.bankEntryRef) return data as VoucherInput['data'];
      return {
        depositId: data.depositId,
        bidder: await party(tx, 'bidders', data.bidderId),
        amountFen: data.amountFen,
        bookedAt: data.bookedAt,
        valueDate: data.valueDate,
        virtualAccount: data.virtualAccount,
        payer: { name: data.payer?.name ?? '—', number: data.payer?.accountNumber ?? data.payer?.number ?? '—', ...(data.payer?.bankCode ? { bankCode: data.payer.bankCode } : {}) },
        bankEntryRef: data.entryRef ?? data.bankEntryRef ?? '—',
        ...(data.remittance ? { remittance: data.remittance } : {}),
        status: data.status ?? 'valid',
        failedRules: data.failedRules ?? [],
      } as VoucherInput['data'];
    }
    case 'verification_report': {
      if (data.guarantee && data.issuer) return data as VoucherInput['data'];
      const ids = await guaranteeIdentity(tx, data.guaranteeId, data);
      return { ...ids, authentic: !!data.authentic, verifiedAt: data.verifiedAt ?? createdAt.toISOString(), checks: data.checks ?? [] } as VoucherInput['data'];
    }
    case 'claim_notice': {
      if (data.guarantee && data.ground) return data as VoucherInput['data'];
      const ids = await guaranteeIdentity(tx, data.guaranteeId, data);
      return {
        claimId: data.claimId ?? data.guaranteeId,
        ...ids,
        claimAmountFen: data.amountFen,
        ground: data.reason,
        reasonText: data.reasonText ?? data.reason,
        decidedBy: data.decidedBy ?? '—',
        decidedAt: data.claimedAt ?? createdAt.toISOString(),
      } as VoucherInput['data'];
    }
    default:
      return data as VoucherInput['data'];
  }
}
