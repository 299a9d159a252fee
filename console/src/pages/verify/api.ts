// The public API these pages use, typed from the service's own OpenAPI document.
import { api, ApiFailure, unwrap, upload, type paths } from '../../api/client';

export type PublicVoucher = paths['/v1/public/vouchers/{id}']['get']['responses'][200]['content']['application/json'];
export type VoucherCheck = paths['/v1/vouchers/verify']['post']['responses'][200]['content']['application/json'];
export type VoucherPageCheck = paths['/v1/public/vouchers/{id}/verify']['post']['responses'][200]['content']['application/json'];

/** The service refuses a larger body (voucherPdfBytesMax in src/vouchers/verify.ts); checked here
 *  first so that a phone does not send megabytes only to be told so. */
export const voucherPdfBytesMax = 10 * 1024 * 1024;

export class FileTooLarge extends Error {
  constructor(readonly bytesMax: number) {
    super(`file larger than ${bytesMax} bytes`);
  }
}

export async function getPublicVoucher(id: string): Promise<PublicVoucher> {
  return unwrap(await api.GET('/v1/public/vouchers/{id}', { params: { path: { id } } }));
}

/** Any PDF, checked against every voucher on record. */
export async function checkVoucherPdf(file: Blob): Promise<VoucherCheck> {
  if (file.size > voucherPdfBytesMax) throw new FileTooLarge(voucherPdfBytesMax);
  return (await upload('/v1/vouchers/verify', file, 'application/pdf')) as VoucherCheck;
}

/** A PDF checked on the page of one voucher: also whether it is that voucher. */
export async function checkPdfAgainstVoucher(id: string, file: Blob): Promise<VoucherPageCheck> {
  if (file.size > voucherPdfBytesMax) throw new FileTooLarge(voucherPdfBytesMax);
  return (await upload(`/v1/public/vouchers/${encodeURIComponent(id)}/verify`, file, 'application/pdf')) as VoucherPageCheck;
}

export const isNotFound = (e: unknown) => e instanceof ApiFailure && e.status === 404;
