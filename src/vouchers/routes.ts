import { z } from 'zod';
import { NotFound } from '../errors';
import type { Caller } from '../http/auth';
import { defineRoute, type RouteDef } from '../http/route';
import { idParam } from '../http/schemas';
import type { Runtime } from '../runtime';
import { checkVoucherPdf, type VoucherRow } from './service';
import { voucherPdfBytesMax } from './verify';

const tags = ['vouchers'];

const voucherOut = z.object({
  id: z.string(),
  object: z.literal('voucher'),
  kind: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }),
  sectionId: z.string().nullable(),
  bidderId: z.string().nullable(),
  status: z.enum(['pending', 'signed', 'failed']),
  recordSha256: z.string(),
  pdfSha256: z.string().nullable(),
  signer: z.string().nullable(),
  signedAt: z.string().nullable(),
  createdAt: z.string(),
});

/** The centre and auditors see every voucher; a bidder the ones about itself. */
function visible(caller: Caller, v: VoucherRow): boolean {
  if (caller.role === 'centre' || caller.role === 'auditor') return true;
  return caller.role === 'bidder' && v.bidder_id !== null && v.bidder_id === caller.bidderId;
}

const present = (v: VoucherRow) => ({
  id: v.id,
  object: 'voucher' as const,
  kind: v.kind,
  subject: { type: v.subject_type, id: v.subject_id },
  sectionId: v.section_id,
  bidderId: v.bidder_id,
  status: v.status,
  recordSha256: v.record_sha256,
  pdfSha256: v.pdf_sha256,
  signer: v.signer_subject,
  signedAt: v.signed_at?.toISOString() ?? null,
  createdAt: v.created_at.toISOString(),
});

export const voucherRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/vouchers/:id', operationId: 'getVoucher', summary: 'A voucher on record', tags,
    access: { roles: ['centre', 'auditor', 'bidder'] }, params: z.strictObject({ id: idParam('vch') }), response: voucherOut,
    handler: async ({ tx, caller, params }) => {
      const v = (await tx('vouchers').where({ id: params.id }).first()) as VoucherRow | undefined;
      if (!v || !visible(caller, v)) throw new NotFound('voucher', params.id);
      return present(v);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/vouchers/:id/pdf', operationId: 'getVoucherPdf', summary: 'The signed PDF of a voucher', tags,
    access: { roles: ['centre', 'auditor', 'bidder'] }, params: z.strictObject({ id: idParam('vch') }), produces: ['application/pdf'],
    handler: async ({ tx, caller, params, res }) => {
      const v = (await tx('vouchers').where({ id: params.id }).first()) as VoucherRow | undefined;
      if (!v || !visible(caller, v) || v.status !== 'signed' || !v.pdf) throw new NotFound('signed voucher', params.id);
      res.setHeader('Content-Type', 'application/pdf');
      res.setHeader('Content-Disposition', `inline; filename="${v.id}.pdf"`);
      res.setHeader('ETag', `"${v.pdf_sha256}"`);
      res.status(200).send(v.pdf);
      return { sent: true };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/vouchers/verify', operationId: 'verifyVoucher',
    summary: 'Check a voucher PDF: signature, signer, time, and whether it is byte-identical to the record', tags,
    access: { public: true }, transactional: false, idempotent: false,
    bodyMode: { kind: 'raw', maxBytes: voucherPdfBytesMax, contentTypes: ['application/pdf', 'application/octet-stream'] },
    response: z.object({
      valid: z.boolean(),
      reason: z.string().optional(),
      signer: z.object({ subject: z.string(), fingerprint: z.string() }).nullable(),
      signedAt: z.string().nullable(),
      voucherId: z.string().nullable(),
      coversWholeFile: z.boolean(),
      trusted: z.boolean(),
      matchesRecord: z.boolean(),
    }),
    handler: async ({ rawBody, deps }) => checkVoucherPdf(deps as Runtime, rawBody ?? Buffer.alloc(0)),
  }),
];
