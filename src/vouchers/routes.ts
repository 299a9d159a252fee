// Vouchers over HTTP: reading one and its signed PDF, listing a record's, checking any PDF
// against the record, and the public page a voucher's QR code opens (no sign-in, rate-limited
// per client address, never cached).
import { guardPublicRoute } from '../http/rateLimit';
import { defineRoute, type RouteDef } from '../http/route';
import { presentVoucher } from './present';
import { getPublicVoucher } from './public';
import { publicVoucherCheckOut, publicVoucherOut, publicVoucherParams, subjectVouchersOut, subjectVouchersQuery, voucherCheckOut, voucherOut, voucherParams } from './schemas';
import { checkPdfAgainstVoucher, checkVoucherPdf, findVisibleSignedPdf, findVisibleVoucher } from './service';
import { listVouchersOfSubject } from './subjects';
import type { VoucherKind } from './input';
import { voucherPdfBytesMax } from './verify';

const tags = ['vouchers'];
const publicTags = ['public'];
const pdfBody = { kind: 'raw' as const, maxBytes: voucherPdfBytesMax, contentTypes: ['application/pdf', 'application/octet-stream'] };

export const voucherRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/vouchers', operationId: 'listVouchersOfSubject',
    summary: 'The vouchers of one record (deposit, refund, guarantee, roster, reconciliation), seen as the record is: 404 for a record the caller may not see (R18)', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: subjectVouchersQuery, response: subjectVouchersOut,
    handler: async ({ tx, caller, query }) => listVouchersOfSubject(tx, caller, { ...query, kind: query.kind as VoucherKind | undefined }),
  }),
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
    summary: 'Check a voucher PDF: a verdict (valid, changed, untrusted, unknown) with its evidence, and the public summary of the voucher when valid', tags,
    access: { public: true }, transactional: false, idempotent: false, bodyMode: pdfBody, response: voucherCheckOut,
    handler: async ({ req, res, rawBody, deps }) => {
      await guardPublicRoute(req, res, deps, 'upload');
      return checkVoucherPdf(deps, rawBody ?? Buffer.alloc(0));
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/public/vouchers/:id', operationId: 'getPublicVoucher',
    summary: 'What anyone may know of a voucher (the page its QR code opens): no bidder before the opening (R18)', tags: publicTags,
    access: { public: true }, params: publicVoucherParams, response: publicVoucherOut,
    handler: async ({ req, res, params, deps }) => {
      await guardPublicRoute(req, res, deps, 'read');
      return getPublicVoucher(deps.db, deps, params.id);
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/public/vouchers/:id/verify', operationId: 'verifyPublicVoucher',
    summary: 'Check a PDF on the page of one voucher: the verdict, and whether the file is this voucher', tags: publicTags,
    access: { public: true }, transactional: false, idempotent: false, params: publicVoucherParams, bodyMode: pdfBody, response: publicVoucherCheckOut,
    handler: async ({ req, res, params, rawBody, deps }) => {
      await guardPublicRoute(req, res, deps, 'upload');
      return checkPdfAgainstVoucher(deps, params.id, rawBody ?? Buffer.alloc(0));
    },
  }),
];
