// Vouchers over HTTP: reading one and its signed PDF, and checking any PDF against the record.
import { defineRoute, type RouteDef } from '../http/route';
import { presentVoucher } from './present';
import { voucherCheckOut, voucherOut, voucherParams } from './schemas';
import { checkVoucherPdf, findVisibleSignedPdf, findVisibleVoucher } from './service';
import { voucherPdfBytesMax } from './verify';

const tags = ['vouchers'];

export const voucherRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/vouchers/:id', operationId: 'getVoucher', summary: 'A voucher on record', tags,
    access: { roles: ['centre', 'auditor', 'bidder'] }, params: voucherParams, response: voucherOut,
    handler: async ({ tx, caller, params }) => presentVoucher(await findVisibleVoucher(tx, caller, params.id), caller),
  }),
  defineRoute({
    method: 'get', path: '/v1/vouchers/:id/pdf', operationId: 'getVoucherPdf', summary: 'The signed PDF of a voucher', tags,
    access: { roles: ['centre', 'auditor', 'bidder'] }, params: voucherParams, produces: ['application/pdf'],
    handler: async ({ tx, caller, params, res }) => {
      const v = await findVisibleSignedPdf(tx, caller, params.id);
      res.setHeader('Content-Type', 'application/pdf');
      res.setHeader('Content-Disposition', `inline; filename="${v.id}.pdf"`);
      res.setHeader('ETag', `"${v.pdfSha256}"`);
      res.status(200).send(v.pdf);
      return { sent: true };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/vouchers/verify', operationId: 'verifyVoucher',
    summary: 'Check a voucher PDF: signature, signer, time, and whether it is byte-identical to the record', tags,
    access: { public: true }, transactional: false, idempotent: false,
    bodyMode: { kind: 'raw', maxBytes: voucherPdfBytesMax, contentTypes: ['application/pdf', 'application/octet-stream'] },
    response: voucherCheckOut,
    handler: async ({ rawBody, deps }) => checkVoucherPdf(deps, rawBody ?? Buffer.alloc(0)),
  }),
];
