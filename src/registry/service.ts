// Tenderees, bidders, issuers, deposit banks and sections: the parties and the things bid on.
import type { Knex } from 'knex';
import type forge from 'node-forge';
import type { z } from 'zod';
import { appendAudit, type Actor } from '../audit/service';
import { BadRequest, Conflict, NotFound, RuleViolation, Unprocessable } from '../errors';
import { creditReductionsProblem } from '../domain/creditReduction';
import { validateBankCode } from '../domain/bankCode';
import { newId } from '../domain/ids';
import { parseAmount } from '../domain/money';
import { validateUscc } from '../domain/uscc';
import { checkDepositCap } from '../domain/rules';
import type { Caller } from '../http/auth';
import { paginate } from '../http/pagination';
import { chainsToRoot, InvalidCertificate, parseCertificatePem } from '../pki/certs';
import * as repo from './repo';
import { normalizeHttpUrl, type bankCreate, type bidderCreate, type issuerCreate, type sectionCreate, type sectionListQuery, type tendereeCreate } from './schemas';

type Db = Knex | Knex.Transaction;
type ListQuery = { limit: number; cursor?: string };

export function actorOf(caller: Caller): Actor {
  return { type: caller.role === 'none' ? 'anonymous' : caller.role, id: caller.keyId };
}

function requireUscc(uscc: string, param: string): void {
  const v = validateUscc(uscc);
  if (!v.ok) throw new Unprocessable('invalid_uscc', `${param} is not a valid unified social credit code (GB 32100-2015): ${v.reason}`, param);
}

function requireBankCode(code: string, param: string): void {
  const v = validateBankCode(code);
  if (!v.ok) throw new Unprocessable('invalid_bank_code', `${param} is not a valid CNAPS bank code: ${v.reason}`, param);
}

/** A URL as schemas.ts normalises it; callers that do not come through the schema (the sandbox
 *  registration) get the same normalisation and the same refusals. */
function requireHttpUrl(value: string, param: string): string {
  const r = normalizeHttpUrl(value);
  if ('problem' in r) throw new Unprocessable('invalid_url', `${param}: ${r.problem}`, param);
  return r.url;
}

async function insertUnique(tx: Knex.Transaction, table: 'tenderees' | 'bidders' | 'banks', row: Record<string, unknown>, conflictColumn: string, what: string): Promise<void> {
  if (!(await repo.insertUnlessExists(tx, table, row, conflictColumn))) throw new Conflict(`${what}_exists`, `a ${what} with this ${conflictColumn} is already registered`);
}

export async function createTenderee(tx: Knex.Transaction, caller: Caller, input: z.infer<typeof tendereeCreate>) {
  requireUscc(input.uscc, 'uscc');
  const id = newId('tnd');
  await insertUnique(tx, 'tenderees', { id, name: input.name, uscc: input.uscc }, 'uscc', 'tenderee');
  await appendAudit(tx, { actor: actorOf(caller), action: 'tenderee.created', entityType: 'tenderee', entityId: id, data: input });
  return (await repo.findTenderee(tx, id))!;
}

export async function createBidder(tx: Knex.Transaction, caller: Caller, input: z.infer<typeof bidderCreate>) {
  requireUscc(input.uscc, 'uscc');
  requireBankCode(input.basicAccount.bankCode, 'basicAccount.bankCode');
  const id = newId('bdr');
  await insertUnique(
    tx,
    'bidders',
    {
      id,
      name: input.name,
      uscc: input.uscc,
      basic_bank_code: input.basicAccount.bankCode,
      basic_account_number: input.basicAccount.number,
      basic_account_name: input.basicAccount.name,
    },
    'uscc',
    'bidder',
  );
  await appendAudit(tx, { actor: actorOf(caller), action: 'bidder.created', entityType: 'bidder', entityId: id, data: { name: input.name, uscc: input.uscc, bankCode: input.basicAccount.bankCode } });
  return (await repo.findBidder(tx, id))!;
}

export async function addCertificate(
  tx: Knex.Transaction,
  caller: Caller,
  owner: { type: 'issuer' | 'bank'; id: string },
  pem: string,
  trustRoots: forge.pki.Certificate[],
  now = new Date(),
) {
  let parsed: ReturnType<typeof parseCertificatePem>;
  try {
    parsed = parseCertificatePem(pem);
  } catch (e) {
    throw new Unprocessable('invalid_certificate', (e as InvalidCertificate).message, 'certificatePem');
  }
  const { cert, info } = parsed;
  if (info.notAfter < now) throw new Unprocessable('certificate_expired', 'the certificate has expired', 'certificatePem');
  if (!chainsToRoot(cert, trustRoots, [], info.notBefore > now ? info.notBefore : now)) {
    throw new Unprocessable('certificate_untrusted', 'the certificate does not chain to a configured trust root (BIDBOND_TRUST_ROOTS)', 'certificatePem');
  }
  const inserted = await repo.insertCertificate(tx, {
    fingerprint: info.fingerprint,
    owner_type: owner.type,
    owner_id: owner.id,
    pem: info.pem,
    subject: info.subject,
    issuer_dn: info.issuer,
    serial_number: info.serialNumber,
    not_before: info.notBefore,
    not_after: info.notAfter,
  });
  if (!inserted) throw new Conflict('certificate_exists', 'this certificate is already registered');
  await appendAudit(tx, {
    actor: actorOf(caller),
    action: 'certificate.added',
    entityType: owner.type,
    entityId: owner.id,
    data: { fingerprint: info.fingerprint, subject: info.subject, notAfter: info.notAfter },
  });
  return info;
}

/** A certificate added to a registered issuer or bank (rotation), as it is now on record. */
export async function addOwnerCertificate(tx: Knex.Transaction, caller: Caller, owner: { type: 'issuer' | 'bank'; id: string }, pem: string, trustRoots: forge.pki.Certificate[]) {
  const found = owner.type === 'issuer' ? await repo.findIssuer(tx, owner.id) : await repo.findBank(tx, owner.id);
  if (!found) throw new NotFound(owner.type, owner.id);
  const info = await addCertificate(tx, caller, owner, pem, trustRoots);
  return (await repo.certificatesOf(tx, owner.type, owner.id)).find((c) => c.fingerprint === info.fingerprint)!;
}

export async function retireCertificate(tx: Knex.Transaction, caller: Caller, owner: { type: 'issuer' | 'bank'; id: string }, fingerprint: string) {
  if (!(await repo.retireCertificate(tx, owner, fingerprint))) throw new NotFound('certificate', fingerprint);
  await appendAudit(tx, { actor: actorOf(caller), action: 'certificate.retired', entityType: owner.type, entityId: owner.id, data: { fingerprint } });
}

export async function createIssuer(tx: Knex.Transaction, caller: Caller, input: z.infer<typeof issuerCreate>, trustRoots: forge.pki.Certificate[]) {
  if (input.bankCode) requireBankCode(input.bankCode, 'bankCode');
  const callbackUrl = input.callbackUrl === undefined ? undefined : requireHttpUrl(input.callbackUrl, 'callbackUrl');
  const id = newId('iss');
  await repo.insertIssuer(tx, { id, name: input.name, kind: input.kind, bank_code: input.bankCode ?? null, callback_url: callbackUrl ?? null });
  await appendAudit(tx, { actor: actorOf(caller), action: 'issuer.created', entityType: 'issuer', entityId: id, data: { name: input.name, kind: input.kind, bankCode: input.bankCode, callbackUrl } });
  await addCertificate(tx, caller, { type: 'issuer', id }, input.certificatePem, trustRoots);
  return (await repo.findIssuer(tx, id))!;
}

export async function createBank(tx: Knex.Transaction, caller: Caller, input: z.infer<typeof bankCreate>, trustRoots: forge.pki.Certificate[]) {
  requireBankCode(input.bankCode, 'bankCode');
  const endpoint = requireHttpUrl(input.endpoint, 'endpoint');
  const id = newId('bnk');
  await insertUnique(
    tx,
    'banks',
    {
      id,
      name: input.name,
      bank_code: input.bankCode,
      adapter: input.adapter,
      endpoint,
      trust_account_number: input.trustAccount.number,
      trust_account_name: input.trustAccount.name,
      virtual_account_prefix: input.virtualAccountPrefix,
    },
    'virtual_account_prefix',
    'bank',
  );
  await appendAudit(tx, { actor: actorOf(caller), action: 'bank.created', entityType: 'bank', entityId: id, data: { name: input.name, bankCode: input.bankCode, adapter: input.adapter, endpoint } });
  await addCertificate(tx, caller, { type: 'bank', id }, input.certificatePem, trustRoots);
  return (await repo.findBank(tx, id))!;
}

export async function createSection(tx: Knex.Transaction, caller: Caller, input: z.infer<typeof sectionCreate>, opts: { depositCapFen?: bigint; now?: Date }) {
  const estimatedPriceFen = parseAmount(input.estimatedPrice);
  const depositAmountFen = parseAmount(input.depositAmount);
  // A section's own cap wins; otherwise the configured cap applies to works (tendering-law) sections.
  const capFen = input.depositCap ? parseAmount(input.depositCap) : input.regime === 'tendering_law' ? opts.depositCapFen : undefined;
  const r1 = checkDepositCap({ estimatedPriceFen, depositAmountFen, capFen });
  if (!r1.ok) throw new RuleViolation('R1', 'deposit_exceeds_limit', r1.detail, 'depositAmount');
  const reductions = creditReductionsProblem(input.creditReductions);
  if (reductions) throw new BadRequest('invalid_field', `creditReductions: ${reductions}`, 'creditReductions');
  const deadline = new Date(input.bidDeadline);
  if (deadline <= (opts.now ?? new Date())) throw new Unprocessable('deadline_in_past', 'bidDeadline must be in the future', 'bidDeadline');
  if (!(await repo.findTenderee(tx, input.tendereeId))) throw new Unprocessable('unknown_tenderee', `no tenderee ${input.tendereeId}`, 'tendereeId');
  if (input.depositBankId && !(await repo.findBank(tx, input.depositBankId))) {
    throw new Unprocessable('unknown_bank', `no deposit bank ${input.depositBankId}`, 'depositBankId');
  }
  if (input.acceptedSecurity.includes('cash') && !input.depositBankId) {
    throw new Unprocessable('deposit_bank_required', 'a section that accepts cash needs a depositBankId', 'depositBankId');
  }
  const id = newId('sec');
  const inserted = await repo.insertSection(tx, {
    id,
    project_code: input.projectCode,
    section_code: input.sectionCode,
    name: input.name,
    tenderee_id: input.tendereeId,
    regime: input.regime,
    estimated_price_fen: estimatedPriceFen,
    deposit_amount_fen: depositAmountFen,
    deposit_cap_fen: capFen ?? null,
    currency: input.currency,
    bid_deadline: deadline,
    bid_validity_days: input.bidValidityDays,
    deposit_bank_id: input.depositBankId ?? null,
    accepted_security: input.acceptedSecurity,
    guarantee_bank_match: input.guaranteeBankMatch,
    credit_reductions: input.creditReductions.map((c) => ({ grade: c.grade, percent: c.percent })),
  });
  if (!inserted) throw new Conflict('section_exists', `section ${input.projectCode}/${input.sectionCode} already exists`);
  await appendAudit(tx, { actor: actorOf(caller), action: 'section.created', entityType: 'section', entityId: id, data: input });
  return (await repo.findSection(tx, id))!;
}

/** Sections are public notices: any bidder may read them; a tenderee only its own. */
export async function getVisibleSection(tx: Db, caller: Caller, id: string) {
  const s = await repo.findSection(tx, id);
  if (!s) throw new NotFound('section', id);
  if (caller.role === 'tenderee' && s.tenderee_id !== caller.tendereeId) throw new NotFound('section', id);
  return s;
}

export function listVisibleSections(tx: Db, caller: Caller, query: z.infer<typeof sectionListQuery>) {
  const q = repo.sectionsQuery(tx, query);
  if (caller.role === 'tenderee') q.where('tenderee_id', caller.tendereeId!);
  return paginate(q, query, (r: repo.SectionRow) => r);
}

/** A tenderee reads only itself; others' records answer as absent. */
export async function getVisibleTenderee(tx: Db, caller: Caller, id: string) {
  const t = await repo.findTenderee(tx, id);
  if (!t || (caller.role === 'tenderee' && caller.tendereeId !== t.id)) throw new NotFound('tenderee', id);
  return t;
}

/** A bidder reads only itself (its basic account is on the record). */
export async function getVisibleBidder(tx: Db, caller: Caller, id: string) {
  const b = await repo.findBidder(tx, id);
  if (!b || (caller.role === 'bidder' && caller.bidderId !== b.id)) throw new NotFound('bidder', id);
  return b;
}

export async function getIssuer(tx: Db, id: string) {
  const issuer = await repo.findIssuer(tx, id);
  if (!issuer) throw new NotFound('issuer', id);
  return { issuer, certificates: await repo.certificatesOf(tx, 'issuer', id) };
}

export function listIssuers(tx: Db, query: ListQuery) {
  return paginate(repo.issuersQuery(tx), query, async (issuer: repo.IssuerRow) => ({ issuer, certificates: await repo.certificatesOf(tx, 'issuer', issuer.id) }));
}

export async function getBank(tx: Db, id: string) {
  const bank = await repo.findBank(tx, id);
  if (!bank) throw new NotFound('bank', id);
  return { bank, certificates: await repo.certificatesOf(tx, 'bank', id) };
}

export function listBanks(tx: Db, query: ListQuery) {
  return paginate(repo.banksQuery(tx), query, async (bank: repo.BankRow) => ({ bank, certificates: await repo.certificatesOf(tx, 'bank', bank.id) }));
}
