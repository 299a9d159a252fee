// What a voucher shows. Each capability freezes the facts of its event when it asks for the
// voucher; the parties' identities (names, codes) are looked up here, at render time, from
// records that never change once written.
import type { Knex } from 'knex';
import type { VoucherInput } from './render';

type Data = Record<string, any>;

async function party(db: Knex, table: 'bidders' | 'tenderees', id: unknown) {
  const row = typeof id === 'string' ? await db(table).where({ id }).first('name', 'uscc') : undefined;
  return row ? { name: row.name as string, uscc: row.uscc as string } : { name: '—' };
}

async function guaranteeIdentity(db: Knex, guaranteeId: string, frozen: Data) {
  const g = await db('guarantees').where({ id: guaranteeId }).first();
  const i = g ? await db('issuers').where({ id: g.issuer_id }).first() : undefined;
  return {
    guarantee: {
      number: String(frozen.number ?? g?.number ?? ''),
      kind: (frozen.kind ?? g?.kind) as 'bank' | 'insurance' | 'guarantor',
      amountFen: (frozen.guaranteeAmountFen ?? frozen.amountFen ?? g?.amount_fen ?? 0n) as bigint,
      validFrom: String(frozen.validFrom ?? g?.valid_from ?? ''),
      validTo: String(frozen.validTo ?? g?.valid_to ?? ''),
      issuedAt: g ? (g.issued_at as Date).toISOString() : '',
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
      ...(i?.bank_code ? { bankCode: i.bank_code as string } : {}),
      ...(g?.certificate_fingerprint ? { certificateFingerprint: g.certificate_fingerprint as string } : {}),
    },
  };
}

/** Builds the kind's data from what was frozen at the event. Kinds whose callers freeze the
 *  full layout data (rosters, refunds, reconciliations) pass through unchanged. */
export async function composeVoucherData(db: Knex, kind: VoucherInput['kind'], data: Data, createdAt: Date): Promise<VoucherInput['data']> {
  switch (kind) {
    case 'deposit_receipt': {
      if (data.bidder && data.bankEntryRef) return data as VoucherInput['data'];
      return {
        depositId: data.depositId,
        bidder: await party(db, 'bidders', data.bidderId),
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
      const ids = await guaranteeIdentity(db, data.guaranteeId, data);
      return { ...ids, authentic: !!data.authentic, verifiedAt: data.verifiedAt ?? createdAt.toISOString(), checks: data.checks ?? [] } as VoucherInput['data'];
    }
    case 'claim_notice': {
      if (data.guarantee && data.ground) return data as VoucherInput['data'];
      const ids = await guaranteeIdentity(db, data.guaranteeId, data);
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
