// Chooses a bank's adapter by its protocol. Each protocol lives in its own folder (iso20022/,
// cnh2h/); adding a bank with another protocol is one more folder and one more case here.
//
// The HTTP contract (the sandbox bank implements exactly this):
//   iso20022 (also what a bank record with adapter `sandbox` speaks, see protocolOfAdapter)
//     POST {endpoint}/iso20022/payments                 body pain.001.001.09 (application/xml)
//          200 pain.002.001.10: GrpSts ACTC accepted, or RJCT with a reason (whole-file faults)
//     GET  {endpoint}/iso20022/payments/{msgId}/status  200 pain.002.001.10 with transaction
//          statuses; 404 the bank never received that message id (every transfer `unknown`)
//     GET  {endpoint}/iso20022/statements?account=&date=YYYY-MM-DD   200 camt.053.001.08, streamed
//   cn-h2h
//     POST {endpoint}/cn-h2h/gateway, JSON, header X-Trans-Code: B2E0001 payment, B2E0002 status
//          query, B2E0003 statement (NDJSON answer); see cnh2h/protocol.ts
// Outcome rules, the same for both: a timeout, a network error, a 5xx (or cn-h2h E9999) means
// the bank may or may not have acted, so it is BankUnreachable and the caller must ask for
// status before sending anything again; so is an answer to a payment that cannot be read. Any
// other 4xx means the bank refused the request without acting on it.
// Every request is signed with conn.sign(body) when given (GETs sign the empty body).
import type { BankAdapter, BankConnection, BankProtocol } from './types';
import { isoAdapter } from './iso20022/adapter';
import { cnh2hAdapter } from './cnh2h/adapter';

export { bankRequestTimeoutMs, bankResponseBytesMax, completeStatusReport } from './http';
export { notificationEventIdCharsMax, notificationTextCharsMax, parseNotification, parseServiceNotification } from './notifications';

/** What a bank record's `adapter` may say: a protocol, or `sandbox`. */
export type BankAdapterName = BankProtocol | 'sandbox';

/** The protocol a bank record's adapter speaks. A sandbox bank record is the ISO 20022 adapter
 *  pointed at a sandbox endpoint: the simulator is a bank like any other to the service. */
export function protocolOfAdapter(adapter: BankAdapterName): BankProtocol {
  return adapter === 'sandbox' ? 'iso20022' : adapter;
}

export function createBankAdapter(conn: BankConnection): BankAdapter {
  if (!/^https?:\/\//.test(conn.endpoint)) throw new Error(`assertion: bank endpoint must be an http(s) URL, got ${JSON.stringify(conn.endpoint)}`);
  switch (conn.protocol) {
    case 'iso20022':
      return isoAdapter(conn);
    case 'cn-h2h':
      return cnh2hAdapter(conn);
    default: {
      const never: never = conn.protocol;
      throw new Error(`assertion: unknown bank protocol ${String(never)}`);
    }
  }
}
