// The section as it happens, up to the opening: the centre sets up a tenderee, issuers and a
// section; bidders register, open accounts at the sandbox bank, and secure their bids with
// guarantees (signed issuer webhooks) or cash (sandbox transfers, which the bank notifies by
// itself); some get it wrong the way real bidders do; the deadline passes; the bids open.
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createApiKey } from '../http/auth';
import { issueCertificate } from '../pki/certs';
import { formatAmount } from '../domain/money';
import { addCalendarDays, toBusinessDate } from '../domain/time';
import { usccCharset, usccCheckChar } from '../domain/uscc';
import { client, httpConcurrency, listAll, mapLimit, sleep, waitFor, type Client } from './http';
import { elapsed, type Progress } from './progress';
import {
  basicOpeningFen, bidValidityDays, depositFen, estimatedPriceFen, guaranteeBehaviours, issuingBankCode, shortPaymentFen,
  type Account, type Behaviour, type PlannedBidder,
} from './cast';

/** Notifications and webhooks are handled within seconds; this bounds a wait that never ends. */
export const creditsWaitMs = 60_000;
export const pollIntervalMs = 250;
/** The deadline is set this far ahead of the measured time the securing step needs, at least. */
export const deadlineMarginMs = 10_000;
export const deadlineLeadMinMs = 10_000;
export const deadlineLeadMaxMs = 180_000;
/** Late payers pay this long after the deadline: more than the bank's one-second resolution. */
export const deadlineSettleMs = 1_500;
/** List pages read for one section's deposits (100 each). */
export const listPagesMax = 200;

export interface DemoEnv {
  apiUrl: string;
  sandboxUrl: string;
  bankId: string;
  /** Keys are made the way operators make them (`bidbond keys create`), on the database. */
  db: Knex;
  /** The development CA that issuer certificates are issued from (the service trusts it). */
  ca: { keyPem: string; certPem: string };
  progress: Progress;
  runTag: string;
}

export interface Issuer {
  id: string;
  kind: 'bank' | 'insurance' | 'guarantor';
  name: string;
  keyPem: string;
  fingerprint: string;
}

export interface Bidder extends PlannedBidder {
  id: string;
  key: string;
  virtualAccount?: string;
  /** What left each of its accounts towards the service, by account number. */
  paidFen: Map<string, bigint>;
  guarantee?: { issuerId: string; number: string; documentSha256: string; status: string; rules: string[]; verificationVoucherId?: string };
}

export interface World {
  centre: Client;
  auditor: Client;
  tenderee: Client;
  sandbox: Client;
  tendereeRecord: { id: string; name: string; uscc: string };
  issuers: Record<'bank' | 'insurance' | 'guarantor', Issuer>;
  section: { id: string; projectCode: string; sectionCode: string; bidDeadline: string };
  bidders: Bidder[];
  trustAccount: string;
  /** The audit log's position when the demo began: its vouchers are signed after it. */
  auditCursor: string;
  suspenseVirtualAccount?: string;
}

export async function setUpCentre(env: DemoEnv): Promise<Omit<World, 'section' | 'bidders'>> {
  const { progress: p } = env;
  const centreKey = (await createApiKey(env.db, { role: 'centre', label: `demo ${env.runTag}` })).key;
  const auditorKey = (await createApiKey(env.db, { role: 'auditor', label: `demo ${env.runTag}` })).key;
  const centre = client(env.apiUrl, centreKey);
  const auditor = client(env.apiUrl, auditorKey);
  const sandbox = client(env.sandboxUrl);
  const bank = await centre.get(`/v1/banks/${env.bankId}`);
  const uscc = usccFor(env.runTag);
  const t = await centre.post('/v1/tenderees', { name: '某市交通运输局', uscc });
  const tendereeKey = (await createApiKey(env.db, { role: 'tenderee', tendereeId: t.id, label: `demo ${env.runTag}` })).key;
  const created = await auditor.get(`/v1/audit?entityType=tenderee&entityId=${t.id}&limit=1`);
  const auditCursor = String(created.data[0]?.seq ?? '0');
  p.line(`  centre, auditor and tenderee keys made; tenderee ${t.name} (${t.id})`);
  const issuers = {} as World['issuers'];
  const issuerSpecs = [
    { kind: 'bank' as const, name: '中国工商银行北京分行', certName: 'ICBC Beijing Branch e-guarantee', bankCode: issuingBankCode },
    { kind: 'insurance' as const, name: '中国人民财产保险股份有限公司北京分公司', certName: 'PICC P&C Beijing e-policy' },
    { kind: 'guarantor' as const, name: '北京中关村科技融资担保有限公司', certName: 'Zhongguancun Guarantee e-guarantee' },
  ];
  for (const spec of issuerSpecs) {
    // Each issuer signs its webhooks with a certificate from the development root, which the
    // service trusts on the embedded default. (ASCII subject names: node-forge writes
    // PrintableString, which cannot carry Chinese.)
    const cert = issueCertificate({ commonName: `${spec.certName} (demo ${env.runTag})`, organization: 'bidbond demo', ca: env.ca });
    const res = await centre.post('/v1/issuers', { name: spec.name, kind: spec.kind, bankCode: 'bankCode' in spec ? spec.bankCode : undefined, certificatePem: cert.certPem });
    issuers[spec.kind] = { id: res.id, kind: spec.kind, name: spec.name, keyPem: cert.keyPem, fingerprint: cert.fingerprint };
  }
  p.line(`  issuers registered with certificates: ${issuerSpecs.map((s) => s.name).join('、')}`);
  return { centre, auditor, tenderee: client(env.apiUrl, tendereeKey), sandbox, tendereeRecord: { id: t.id, name: t.name, uscc }, issuers, trustAccount: bank.trustAccount.number, auditCursor };
}

/** The tenderee's USCC (category 11: a government organ), distinct per run. */
function usccFor(tag: string): string {
  const charset = usccCharset;
  const h = createHash('sha256').update(tag).digest();
  let body = '11110000';
  for (let i = 0; body.length < 17; i++) body += charset[h[i] % charset.length];
  return body + usccCheckChar(body);
}

async function openAccount(sandbox: Client, a: Account) {
  await sandbox.post('/sandbox/accounts', { number: a.number, name: a.name, bankCode: a.bankCode, balance: formatAmount(a.openingFen) });
}

/** Bidders open their accounts at the bank and are registered by the centre. */
export async function registerBidders(env: DemoEnv, w: Omit<World, 'section' | 'bidders'>, cast: PlannedBidder[]): Promise<Bidder[]> {
  const step = env.progress.step('registering bidders', cast.length);
  const bidders = await mapLimit(
    cast,
    httpConcurrency,
    async (b) => {
      await openAccount(w.sandbox, b.basic);
      if (b.other) await openAccount(w.sandbox, b.other);
      const res = await w.centre.post('/v1/bidders', { name: b.name, uscc: b.uscc, basicAccount: { bankCode: b.basic.bankCode, number: b.basic.number, name: b.basic.name } });
      const key = (await createApiKey(env.db, { role: 'bidder', bidderId: res.id, label: `demo ${env.runTag}` })).key;
      return { ...b, id: res.id as string, key, paidFen: new Map<string, bigint>() } satisfies Bidder;
    },
    step.tick,
  );
  step.done(`each with a basic account of ¥${formatAmount(basicOpeningFen)} at the sandbox bank`);
  return bidders;
}

export async function createSection(env: DemoEnv, w: Omit<World, 'section' | 'bidders'>, leadMs: number): Promise<World['section']> {
  // A whole second, as deadlines are announced: banks report booking times to the second, so a
  // deadline with milliseconds would judge a payment booked just after it as on time.
  const deadline = new Date(Math.ceil((Date.now() + leadMs) / 1000) * 1000);
  const s = await w.centre.post('/v1/sections', {
    projectCode: `DEMO-${env.runTag}`,
    sectionCode: `${env.runTag}-01`,
    name: '国道G104改扩建工程施工第一标段',
    tendereeId: w.tendereeRecord.id,
    regime: 'tendering_law',
    estimatedPrice: formatAmount(estimatedPriceFen),
    depositAmount: formatAmount(depositFen),
    currency: 'CNY',
    bidDeadline: deadline.toISOString(),
    bidValidityDays,
    depositBankId: env.bankId,
    acceptedSecurity: ['cash', 'bank', 'insurance', 'guarantor'],
    guaranteeBankMatch: 'bank',
  });
  env.progress.line(`  section ${s.sectionCode} (${s.id}): deposit ¥${s.depositAmount}, accepts cash, bank, insurance and guarantor; bid deadline ${s.bidDeadline} (in ${Math.round(leadMs / 1000)} s)`);
  return { id: s.id, projectCode: s.projectCode, sectionCode: s.sectionCode, bidDeadline: s.bidDeadline };
}

/** Securing takes about four times as long as registering did (measured: 11 s after 2.8 s for
 *  200 bidders: payments set off notifications, deposit checks and receipts in the same
 *  process), so the deadline leaves five times the registering time plus a margin. */
export const securingToRegisteringRatio = 5;

export function deadlineLeadFor(registerMs: number): number {
  return Math.min(Math.max(securingToRegisteringRatio * registerMs + deadlineMarginMs, deadlineLeadMinMs), deadlineLeadMaxMs);
}

async function pay(w: World, b: Bidder, from: Account, to: string, amountFen: bigint, remittance: string) {
  await w.sandbox.post('/sandbox/transfers', { fromAccount: from.number, toAccount: to, amount: formatAmount(amountFen), remittance }, { headers: { 'Idempotency-Key': randomBytes(12).toString('hex') } });
  b.paidFen.set(from.number, (b.paidFen.get(from.number) ?? 0n) + amountFen);
}

async function issueGuarantee(env: DemoEnv, w: World, b: Bidder, n: number) {
  const kind: Issuer['kind'] = b.behaviour === 'wrong_bank' ? 'bank' : b.behaviour === 'early_expiry' ? 'insurance' : (b.behaviour as Issuer['kind']);
  const issuer = w.issuers[kind];
  const deadlineDate = toBusinessDate(w.section.bidDeadline);
  // R2 wants validity through deadline + bid validity; the early one stops a month short.
  const validTo = addCalendarDays(deadlineDate, bidValidityDays + (b.behaviour === 'early_expiry' ? -30 : 30));
  const number = `${kind === 'bank' ? 'BG' : kind === 'insurance' ? 'BX' : 'DB'}${env.runTag}${String(n).padStart(4, '0')}`;
  const documentSha256 = createHash('sha256').update(`${number} ${b.uscc} ${w.section.sectionCode}`).digest('hex');
  const body = {
    eventId: `evt-${env.runTag}-${n}`,
    number,
    kind,
    applicant: { uscc: b.uscc, name: b.name },
    beneficiary: { uscc: w.tendereeRecord.uscc, name: w.tendereeRecord.name },
    projectCode: w.section.projectCode,
    sectionCode: w.section.sectionCode,
    amount: formatAmount(depositFen),
    currency: 'CNY',
    validFrom: toBusinessDate(new Date()),
    validTo,
    ...(kind === 'bank' ? { issuingBankCode: issuingBankCode } : {}),
    issuedAt: new Date().toISOString(),
    documentSha256,
  };
  const res = await w.centre.signed(`/v1/issuers/${issuer.id}/guarantees`, body, issuer);
  const failed = (res.body.checks ?? []).filter((c: { ok: boolean }) => !c.ok).map((c: { rule: string }) => c.rule);
  b.guarantee = { issuerId: issuer.id, number, documentSha256, status: res.body.status, rules: failed };
}

/** Credits each behaviour makes into its virtual account before the deadline. */
const timelyCredits: Record<Behaviour, number> = {
  cash: 1, closed_account: 1, short_topup: 2, short_never: 1, other_account: 1, twice: 2, unknown_va: 1, late: 0,
  bank: 0, insurance: 0, guarantor: 0, wrong_bank: 0, early_expiry: 0,
};

/** Before the deadline: sub-accounts, payments and guarantees. */
export async function secureBids(env: DemoEnv, w: World): Promise<void> {
  const step = env.progress.step('securing bids (payments, guarantees)', w.bidders.length);
  await mapLimit(
    w.bidders,
    httpConcurrency,
    async (b, i) => {
      if (guaranteeBehaviours.includes(b.behaviour)) return issueGuarantee(env, w, b, i + 1);
      // The bidder asks for its own sub-account with its own key.
      const me = client(env.apiUrl, b.key);
      b.virtualAccount = (await me.post(`/v1/sections/${w.section.id}/deposit-accounts`, { bidderId: b.id })).virtualAccount as string;
      const va = b.virtualAccount;
      switch (b.behaviour) {
        case 'cash':
        case 'closed_account':
          return pay(w, b, b.basic, va, depositFen, '投标保证金');
        case 'short_topup':
          await pay(w, b, b.basic, va, shortPaymentFen, '投标保证金');
          return pay(w, b, b.basic, va, depositFen - shortPaymentFen, '投标保证金补足');
        case 'short_never':
          return pay(w, b, b.basic, va, shortPaymentFen, '投标保证金');
        case 'other_account':
          return pay(w, b, b.other!, va, depositFen, '投标保证金');
        case 'twice':
          await pay(w, b, b.basic, va, depositFen, '投标保证金');
          return pay(w, b, b.basic, va, depositFen, '投标保证金');
        case 'unknown_va':
          // A digit too many: no such sub-account, so the bank books it to the trust account
          // under that number and the service holds it in suspense (R15).
          w.suspenseVirtualAccount = `${va}0`;
          await pay(w, b, b.basic, w.suspenseVirtualAccount, depositFen, '投标保证金');
          return pay(w, b, b.basic, va, depositFen, '投标保证金');
        case 'late':
          return undefined;
        default:
          throw new Error(`unplanned behaviour ${b.behaviour}`);
      }
    },
    step.tick,
  );
  const g = w.bidders.filter((b) => b.guarantee);
  step.done(`${g.length} guarantees issued by signed webhooks (${g.filter((b) => b.guarantee!.status !== 'issued').length} rejected at issuance), the rest paid through the sandbox bank`);
  const expected = w.bidders.reduce((s, b) => s + timelyCredits[b.behaviour], 0);
  await waitForCredits(env, w, expected, 'the bank notifies every payment');
}

export async function waitForCredits(env: DemoEnv, w: World, expected: number, what: string): Promise<void> {
  const started = Date.now();
  await waitFor(what, async () => (await listAll(w.centre, `/v1/deposits?sectionId=${w.section.id}`, listPagesMax)).length >= expected, creditsWaitMs, pollIntervalMs);
  env.progress.line(`  ${what}: ${expected} credits to sub-accounts recorded (${elapsed(started)})`);
}

/** The deadline passes; the late payers pay anyway. */
export async function passDeadline(env: DemoEnv, w: World): Promise<void> {
  const waitMs = new Date(w.section.bidDeadline).getTime() - Date.now();
  if (waitMs > 0) {
    env.progress.line(`  waiting ${Math.ceil(waitMs / 1000)} s for the bid deadline to pass (real time; nothing is moved in the database)`);
    await sleep(waitMs + deadlineSettleMs);
  }
  const late = w.bidders.filter((b) => b.behaviour === 'late');
  await mapLimit(late, httpConcurrency, async (b) => {
    const me = client(env.apiUrl, b.key);
    b.virtualAccount = (await me.post(`/v1/sections/${w.section.id}/deposit-accounts`, { bidderId: b.id })).virtualAccount as string;
    await pay(w, b, b.basic, b.virtualAccount, depositFen, '投标保证金');
  });
  const before = w.bidders.reduce((s, b) => s + timelyCredits[b.behaviour], 0);
  await waitForCredits(env, w, before + late.length, `${late.length} late payments after the deadline`);
}

export async function openBids(env: DemoEnv, w: World): Promise<any> {
  const roster = await w.centre.post(`/v1/sections/${w.section.id}/opening`);
  const secured = roster.entries.filter((e: { status: string }) => e.status === 'secured').length;
  env.progress.line(`  bids opened: ${roster.entries.length} bidders on the roster, ${secured} secured (roster ${roster.id})`);
  return roster;
}
