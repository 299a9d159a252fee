// A document's SHA-256 computed on the device: a guarantee document is checked by its fingerprint
// and never leaves the phone.

/** The whole file is read into memory to be hashed; a guarantee document is a few pages. */
export const hashedDocumentBytesMax = 100 * 1024 * 1024;

export class HashingUnavailable extends Error {}
export class DocumentTooLarge extends Error {}

export async function sha256Hex(file: Blob): Promise<string> {
  // Web Crypto exists only on secure pages (https, or the machine itself).
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) throw new HashingUnavailable('crypto.subtle is not available on this page');
  if (file.size > hashedDocumentBytesMax) throw new DocumentTooLarge(`larger than ${hashedDocumentBytesMax} bytes`);
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
