// What the trading centre's other systems are told, and how hard we try to tell them. Pure: the
// mapping from the audit log's actions to event types, the retry schedule, and which network
// addresses a delivery may never reach.
import { BlockList, isIP } from 'node:net';
import { formatAmount } from '../domain/money';

/** How an audit action becomes an event: its type and whether it says who bids (R18). */
interface EventMapping {
  type: string;
  revealsBidders: boolean;
  /** Only these keys of the audit data go out (all but the private ones when absent). */
  keep?: readonly string[];
}

const bidderFree = (type: string, keep?: readonly string[]): EventMapping => ({ type, revealsBidders: false, keep });
const aboutBidders = (type: string): EventMapping => ({ type, revealsBidders: true });

/** Every audit action a neighbour cares about, by the action's name. Actions not listed here
 *  (verification look-ups, messages to issuers, vouchers, certificates, calendar loads) are
 *  the service's own business and stay in the audit log only. */
const mappings: Record<string, EventMapping[]> = {
  'tenderee.created': [bidderFree('tenderee.created')],
  'bidder.created': [aboutBidders('bidder.created')],
  'bidder.credit_graded': [aboutBidders('bidder.credit_graded')],
  'issuer.created': [bidderFree('issuer.created')],
  'bank.created': [bidderFree('bank.created')],
  'section.created': [bidderFree('section.created')],
  // A postponement is public: the new deadline and the reason, never how many guarantees it
  // sends back to their issuers (that would count the bidders, R18).
  'section.postponed': [bidderFree('section.postponed', ['previousDeadline', 'bidDeadline', 'reason'])],
  'section.opened': [bidderFree('section.opened')],
  'section.awarded': [bidderFree('section.awarded')],
  'section.contracted': [bidderFree('section.contracted')],
  // A section terminated before its opening never opens, so its tenderee must learn of the
  // termination without the refunds and released guarantees that would count the bidders (R18).
  'section.terminated': [bidderFree('section.terminated', ['reason'])],
  'deposit_account.opened': [aboutBidders('deposit_account.opened')],
  'deposit.received': [aboutBidders('deposit.received')],
  'deposit.held': [aboutBidders('deposit.held')],
  'deposit.valid': [aboutBidders('deposit.valid')],
  'deposit.invalid': [aboutBidders('deposit.invalid')],
  'deposit.suspense': [aboutBidders('deposit.suspense')],
  'deposit.reversed': [aboutBidders('deposit.reversed')],
  'deposit.forfeited': [aboutBidders('deposit.forfeited')],
  'deposit.held_decided': [aboutBidders('deposit.held_decided')],
  'deposit.suspense_returned': [aboutBidders('deposit.suspense_returned')],
  'withdrawal.before_deadline': [aboutBidders('withdrawal.before_deadline')],
  'withdrawal.after_deadline': [aboutBidders('withdrawal.after_deadline')],
  'guarantee_application.submitted': [aboutBidders('guarantee_application.submitted')],
  'guarantee_application.declined': [aboutBidders('guarantee_application.declined')],
  'guarantee.issued': [aboutBidders('guarantee.issued')],
  'guarantee.rejected': [aboutBidders('guarantee.rejected')],
  'guarantee.amended': [aboutBidders('guarantee.amended')],
  // The bidder learns that its guarantee no longer covers R2 after a postponement, and what
  // validity its issuer has been asked for.
  'guarantee.extension_requested': [aboutBidders('guarantee.extension_requested')],
  'guarantee.cancelled': [aboutBidders('guarantee.cancelled')],
  'guarantee.secured': [aboutBidders('guarantee.secured')],
  'guarantee.released': [aboutBidders('guarantee.released')],
  'guarantee.expired': [aboutBidders('guarantee.expired')],
  'guarantee.claimed': [aboutBidders('guarantee.claimed')],
  'guarantee.claim_paid': [aboutBidders('guarantee.claim_paid')],
  'guarantee.claim_refused': [aboutBidders('guarantee.claim_refused')],
  'refund.scheduled': [aboutBidders('refund.scheduled')],
  'refund.submitted': [aboutBidders('refund.submitted')],
  'refund.settled': [aboutBidders('refund.settled')],
  'refund.manual': [aboutBidders('refund.manual')],
  'refund.returned': [aboutBidders('refund.returned')],
  'refund.cancelled': [aboutBidders('refund.cancelled')],
  'refund.retry_decided': [aboutBidders('refund.retry_decided')],
  'reconciliation.created': [bidderFree('reconciliation.completed')],
  'reconciliation.exception_resolved': [bidderFree('reconciliation.exception_resolved')],
  'reconciliation.superseded': [bidderFree('reconciliation.superseded')],
  'bank.interest_credited': [bidderFree('bank.interest_credited')],
  'bank_exception.opened': [aboutBidders('bank_exception.opened')],
  'bank_exception.resolved': [aboutBidders('bank_exception.resolved')],
  'webhook_endpoint.disabled': [bidderFree('webhook_endpoint.disabled')],
};

/** A reconciliation with differences is also its own event, for whoever watches only those. */
const reconciliationException = bidderFree('reconciliation.exception');

export const eventTypes: readonly string[] = [...new Set([...Object.values(mappings).flat().map((m) => m.type), reconciliationException.type])].sort();

export const relayedActions: readonly string[] = Object.keys(mappings);

/** Keys of audit data that never leave the service: account numbers (also quoted in the rule
 *  checks' details; a receiver reads the checks from the record itself) and senders' own ids. */
const privateDataKeys = new Set(['creditorAccount', 'debtorAccount', 'accountNumber', 'debtor', 'virtualAccount', 'checks', 'eventId', 'callbackUrl', 'endpoint']);

export interface AuditFact {
  action: string;
  entityType: string | null;
  entityId: string | null;
  data: Record<string, unknown>;
}

export interface DerivedEvent {
  type: string;
  revealsBidders: boolean;
  subjectType: string | null;
  subjectId: string | null;
  data: Record<string, unknown>;
  /** Scoping the subject's own record cannot give (an event about a section names its bidder). */
  hints: { sectionId?: string; bidderId?: string; bankId?: string; issuerId?: string };
}

/** The log keeps some amounts in fen (`amountFen: "5000000"`); events carry amounts as the API
 *  does everywhere, decimal yuan under the plain name (`amount: "50000.00"`). */
function asApiAmount(key: string, value: unknown, all: Record<string, unknown>): [string, unknown] {
  const m = /^(.+)Fen$/.exec(key);
  if (!m || m[1] in all || !(typeof value === 'string' || typeof value === 'number') || !/^-?\d{1,19}$/.test(String(value))) return [key, value];
  return [m[1], formatAmount(BigInt(value))];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The events an audit action stands for: none, one, or (a reconciliation with differences)
 *  two. */
export function eventsFor(fact: AuditFact): DerivedEvent[] {
  const ms = mappings[fact.action];
  if (!ms) return [];
  const shown = (m: EventMapping) =>
    Object.fromEntries(
      Object.entries(fact.data ?? {})
        .filter(([k]) => !privateDataKeys.has(k) && (!m.keep || m.keep.includes(k)))
        .map(([k, v]) => asApiAmount(k, v, fact.data ?? {})),
    );
  const hints = { sectionId: str(fact.data?.sectionId), bidderId: str(fact.data?.bidderId), bankId: str(fact.data?.bankId), issuerId: str(fact.data?.issuerId) };
  const all = [...ms];
  if (fact.action === 'reconciliation.created' && Number(fact.data?.exceptions ?? 0) > 0) all.push(reconciliationException);
  return all.map((m) => ({ type: m.type, revealsBidders: m.revealsBidders, subjectType: fact.entityType, subjectId: fact.entityId, data: shown(m), hints }));
}

// ---- delivery: retries ---------------------------------------------------------------------

/** How long a delivery is retried, and how long an endpoint may fail before it is disabled. */
export const webhookRetryWindowMs = 72 * 3600_000;
/** The first retry waits this long; each next one four times longer, up to the cap. */
export const webhookBackoffBaseMs = 60_000;
export const webhookBackoffFactor = 4;
export const webhookBackoffMaxMs = 12 * 3600_000;
/** ± this share of the delay is random, so endpoints that failed together do not retry together. */
export const webhookBackoffJitter = 0.2;
/** A bound on attempts whatever the clock says (about a dozen fit the window). */
export const webhookAttemptsMax = 25;

/** The wait after failed attempt `attempt` (1-based); `random` in [0, 1). */
export function retryDelayMs(attempt: number, random: number, baseMs = webhookBackoffBaseMs): number {
  const plain = Math.min(baseMs * webhookBackoffFactor ** Math.max(0, attempt - 1), webhookBackoffMaxMs);
  return Math.round(plain * (1 - webhookBackoffJitter + 2 * webhookBackoffJitter * random));
}

// ---- delivery: where it may go -------------------------------------------------------------

/** Addresses a delivery must never reach unless private destinations are allowed: this host,
 *  the local networks, link-local (cloud metadata at 169.254.169.254), and everything not
 *  globally routable. IPv4-mapped and NAT64 forms of these are checked as the IPv4 they carry. */
const forbidden = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) forbidden.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64], ['2001::', 23],
] as const) forbidden.addSubnet(net, prefix, 'ipv6');

function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return mapped[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** Whether a resolved address is one a delivery may not connect to. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return forbidden.check(address, 'ipv4');
  const v4 = embeddedIpv4(address);
  if (v4) return forbidden.check(v4, 'ipv4');
  return forbidden.check(address, 'ipv6');
}
