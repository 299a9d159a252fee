// What anyone may learn of a voucher without signing in: the page a phone opens from the QR code
// printed on it. R18 decides what it shows: before the section's opening nobody but the bidder
// and the centre may learn who secured it, and whoever scans a voucher is neither for sure, so
// no bidder, amount or account appears until the opening. After it, the bidder's name and the
// amount are on the roster, public; accounts, rules, reasons and interest never are here.
import type { Tx } from '../db/knex';
import { formatAmount } from '../domain/money';
import { ApiError } from '../errors';
import type { AppDeps } from '../http/deps';
import { reviveFen } from './compose';
import type { VoucherKind } from './input';
import * as repo from './repo';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface PublicFact {
  key: string;
  label: Bilingual;
  value: string;
}

export interface PublicVoucher {
  object: 'public_voucher';
  id: string;
  kind: VoucherKind;
  kindLabel: Bilingual;
  status: repo.VoucherStatus;
  issuedAt: string;
  signedAt: string | null;
  pdfSha256: string | null;
  recordSha256: string;
  centre: { name: string };
  section: { projectCode: string; sectionCode: string; name: string; opened: boolean } | null;
  facts: PublicFact[];
}

/** The kinds shown publicly, with their names. A kind not listed here (a new one nobody has
 *  judged yet) answers as if it did not exist. */
export const publicVoucherKinds: Partial<Record<VoucherKind, Bilingual>> = {
  deposit_receipt: { zh: '投标保证金收款凭证', en: 'Bid deposit receipt' },
  deposit_reversal: { zh: '投标保证金冲正凭证', en: 'Bid deposit reversal' },
  refund_voucher: { zh: '投标保证金退还凭证', en: 'Bid deposit refund voucher' },
  refund_return: { zh: '退汇凭证', en: 'Refund return voucher' },
  verification_report: { zh: '电子保函验真报告', en: 'Guarantee verification report' },
  opening_roster: { zh: '开标投标担保名单', en: 'Opening roster of bid securities' },
  claim_notice: { zh: '保函索赔通知', en: 'Guarantee claim notice' },
  reconciliation_report: { zh: '对账报告', en: 'Reconciliation report' },
  statistics: { zh: '统计报表', en: 'Statistics report' },
};

const labels = {
  bidder: { zh: '投标人', en: 'Bidder' },
  amount: { zh: '金额（元）', en: 'Amount (CNY)' },
  guaranteeNumber: { zh: '保函编号', en: 'Guarantee number' },
  authentic: { zh: '验真结果', en: 'Verification result' },
  openedAt: { zh: '开标时间', en: 'Opened at' },
  entries: { zh: '名单条数', en: 'Roster entries' },
  statementDate: { zh: '对账日期', en: 'Statement date' },
  period: { zh: '统计期间', en: 'Period' },
} satisfies Record<string, Bilingual>;

export class VoucherNotFound extends ApiError {
  constructor() {
    // The id is not echoed: the same answer, byte for byte, for every id not shown.
    super(404, 'not_found_error', 'voucher_not_found', 'no such voucher');
  }
}

const voucherIdPattern = /^vch_[0-9a-hjkmnp-tv-z]{26}$/;

type Data = Record<string, unknown>;

const fen = (v: unknown): bigint | undefined => (typeof v === 'bigint' ? v : undefined);

/** The public summary of a voucher on record, or undefined when there is none to show. */
export async function publicSummaryOf(tx: Tx, deps: Pick<AppDeps, 'config'>, v: repo.VoucherRow): Promise<PublicVoucher | undefined> {
  const kindLabel = publicVoucherKinds[v.kind];
  if (!kindLabel) return undefined;
  const section = v.section_id ? await repo.findPublicSection(tx, v.section_id) : undefined;
  const opened = !!section?.opened_at;
  const data = reviveFen(v.data) as Data;
  const facts: PublicFact[] = [];
  const fact = (key: keyof typeof labels, value: string | undefined) => {
    if (value !== undefined && value !== '') facts.push({ key, label: labels[key], value });
  };
  // Every kind about a bidder waits for the opening; a section that never opened (terminated
  // before it) never shows one.
  const bidderShown = opened && v.bidder_id !== null;
  const bidderName = bidderShown ? (await repo.findParty(tx, 'bidders', v.bidder_id!))?.name : undefined;
  switch (v.kind) {
    case 'deposit_receipt':
    case 'deposit_reversal':
      fact('bidder', bidderName);
      if (bidderShown) fact('amount', fen(data.amountFen) !== undefined ? formatAmount(fen(data.amountFen)!) : undefined);
      break;
    case 'refund_voucher':
      fact('bidder', bidderName);
      // The principal is the deposit the roster shows; interest and payee are the bidder's.
      if (bidderShown) fact('amount', fen(data.principalFen) !== undefined ? formatAmount(fen(data.principalFen)!) : undefined);
      break;
    case 'refund_return':
    case 'claim_notice':
      fact('bidder', bidderName);
      break;
    case 'verification_report':
      fact('bidder', bidderName);
      if (bidderShown) {
        fact('guaranteeNumber', typeof data.number === 'string' ? data.number : undefined);
        fact('amount', fen(data.amountFen) !== undefined ? formatAmount(fen(data.amountFen)!) : undefined);
      }
      fact('authentic', typeof data.authentic === 'boolean' ? (data.authentic ? '真实 authentic' : '未通过 not authentic') : undefined);
      break;
    case 'opening_roster':
      fact('openedAt', typeof data.openedAt === 'string' ? data.openedAt : undefined);
      fact('entries', Array.isArray(data.entries) ? String(data.entries.length) : undefined);
      break;
    case 'reconciliation_report':
      fact('statementDate', typeof data.statementDate === 'string' ? data.statementDate : undefined);
      break;
    // Only the period: the figures may be grouped by tenderee, and what a group counts is for
    // the centre and its auditors to publish, not for whoever holds the paper.
    case 'statistics':
      fact('period', typeof data.from === 'string' && typeof data.to === 'string' ? `${data.from} – ${data.to}` : undefined);
      break;
  }
  return {
    object: 'public_voucher',
    id: v.id,
    kind: v.kind,
    kindLabel,
    status: v.status,
    issuedAt: v.created_at.toISOString(),
    signedAt: v.signed_at?.toISOString() ?? null,
    pdfSha256: v.pdf_sha256,
    recordSha256: v.record_sha256,
    centre: { name: deps.config.BIDBOND_CENTRE_NAME },
    section: section ? { projectCode: section.project_code, sectionCode: section.section_code, name: section.name, opened } : null,
    facts,
  };
}

/** The public summary by id; one 404 for a malformed id, an unknown one and one not shown. */
export async function getPublicVoucher(tx: Tx, deps: Pick<AppDeps, 'config'>, id: string): Promise<PublicVoucher> {
  const v = voucherIdPattern.test(id) ? await repo.findVoucher(tx, id) : undefined;
  const summary = v ? await publicSummaryOf(tx, deps, v) : undefined;
  if (!summary) throw new VoucherNotFound();
  return summary;
}
