// Bidders' credit grades (信用等级) as the centre records them, one finding at a time or a
// platform's export at once, and what they take off the security a bidder must put up on a
// section (R4). Findings are never overwritten: the grade a security was judged under stays on
// record with its source.
import type { Knex } from 'knex';
import { appendAudit, type Actor } from '../audit/service';
import { BadRequest, NotFound } from '../errors';
import {
  creditGradeCharsMax,
  creditGradePattern,
  creditSourceCharsMax,
  gradeValidAt,
  requiredSecurity,
  type CreditGradeRecord,
  type CreditReduction,
  type RequiredSecurity,
} from '../domain/creditReduction';
import { businessDate, compareDates, isBusinessDate } from '../domain/time';
import { validateUscc } from '../domain/uscc';
import type { Tx } from '../db/knex';
import type { Caller } from '../http/auth';
import { findBidder, type SectionRow } from '../registry/repo';
import { CsvError, parseCsv } from './csv';
import * as repo from './repo';

/** Findings shown with a bidder's credit, most recent first. */
export const creditGradesListedMax = 100;
/** Findings read for one judgement: a handful per bidder for any one day. */
export const creditFindingsReadMax = 50_000;
/** Records in one import: a platform's export for a region, not its whole database. */
export const creditImportRowsMax = 20_000;
/** Bytes of one import file, for the same reason. */
export const creditImportBytesMax = 8 * 1024 * 1024;

export interface GradeInput {
  grade: string;
  source: string;
  validFrom: string;
  validTo: string;
}

/** What is wrong with a finding, or undefined. The schema checks shapes; this the meaning. */
export function gradeProblem(g: GradeInput): { param: keyof GradeInput; message: string } | undefined {
  if (typeof g.grade !== 'string' || g.grade.length > creditGradeCharsMax || !creditGradePattern.test(g.grade)) {
    return { param: 'grade', message: `a credit grade is capital letters, digits, + and - (at most ${creditGradeCharsMax}), e.g. "AAA" or "A+"` };
  }
  if (typeof g.source !== 'string' || g.source.trim().length === 0 || g.source.length > creditSourceCharsMax || /[\u0000-\u001f\u007f]/.test(g.source)) {
    return { param: 'source', message: `the source names who found the grade (1–${creditSourceCharsMax} characters, no control characters)` };
  }
  if (!isBusinessDate(g.validFrom)) return { param: 'validFrom', message: 'validFrom must be a date YYYY-MM-DD' };
  if (!isBusinessDate(g.validTo)) return { param: 'validTo', message: 'validTo must be a date YYYY-MM-DD' };
  if (compareDates(g.validFrom, g.validTo) > 0) return { param: 'validTo', message: `validTo ${g.validTo} is before validFrom ${g.validFrom}` };
  return undefined;
}

const gradeOf = (r: repo.CreditGradeRow): GradeInput => ({ grade: r.grade, source: r.source, validFrom: r.valid_from, validTo: r.valid_to });
const sameFinding = (r: repo.CreditGradeRow, g: GradeInput) => r.grade === g.grade && r.source === g.source && r.valid_from === g.validFrom && r.valid_to === g.validTo;

/** Records a finding for a bidder. The same finding as the bidder's latest is the same request
 *  again (a PUT repeated) and records nothing; anything else is a new row, the earlier ones kept. */
export async function recordGrade(tx: Knex.Transaction, actor: Actor, bidderId: string, input: GradeInput): Promise<{ grade: repo.CreditGradeRow; created: boolean }> {
  const g = { ...input, source: input.source.trim() };
  const problem = gradeProblem(g);
  if (problem) throw new BadRequest('invalid_field', problem.message, problem.param);
  if (!(await findBidder(tx, bidderId))) throw new NotFound('bidder', bidderId);
  const latest = await repo.latestGrade(tx, bidderId);
  if (latest && sameFinding(latest, g)) return { grade: latest, created: false };
  const stored = await repo.insertGrade(tx, { bidder_id: bidderId, grade: g.grade, source: g.source, valid_from: g.validFrom, valid_to: g.validTo, recorded_by: actor.id ?? actor.type });
  await audited(tx, actor, stored);
  return { grade: stored, created: true };
}

function audited(tx: Knex.Transaction, actor: Actor, r: repo.CreditGradeRow) {
  return appendAudit(tx, {
    actor,
    action: 'bidder.credit_graded',
    entityType: 'bidder',
    entityId: r.bidder_id,
    data: { bidderId: r.bidder_id, gradeId: r.id.toString(), grade: r.grade, source: r.source, validFrom: r.valid_from, validTo: r.valid_to },
  });
}

/** A bidder's credit: the grade it holds today and its findings, most recent first. The bidder
 *  reads its own; another's answers as absent. */
export async function getCredit(tx: Tx, caller: Caller, bidderId: string, now = new Date()) {
  if (caller.role === 'bidder' && caller.bidderId !== bidderId) throw new NotFound('bidder', bidderId);
  if (!(await findBidder(tx, bidderId))) throw new NotFound('bidder', bidderId);
  const grades = await repo.gradesOfBidder(tx, bidderId, creditGradesListedMax);
  const today = gradeValidAt(grades.map(recordOf), now);
  return { bidderId, today: today ? grades.find((g) => g.id === today.seq)! : null, grades };
}

export const recordOf = (r: repo.CreditGradeRow): CreditGradeRecord => ({ seq: r.id, grade: r.grade, source: r.source, validFrom: r.valid_from, validTo: r.valid_to });

const importColumns = ['uscc', 'grade', 'source', 'validFrom', 'validTo'] as const;

/** A platform's export: a header naming `uscc, grade, source, validFrom, validTo` (in any order)
 *  and one finding per record, bidders named by USCC. Checked whole before anything is stored:
 *  one bad record (a malformed field, an unregistered USCC) stores nothing and names its line.
 *  Findings already on record are not recorded twice, so importing the same file again changes
 *  nothing. */
export async function importGrades(tx: Knex.Transaction, actor: Actor, csvText: string): Promise<{ recorded: number; unchanged: number }> {
  if (Buffer.byteLength(csvText, 'utf8') > creditImportBytesMax) throw new BadRequest('import_too_large', `a credit import is at most ${creditImportBytesMax} bytes`);
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(csvText, creditImportRowsMax + 1);
  } catch (e) {
    if (e instanceof CsvError) throw new BadRequest('invalid_import', e.message);
    throw e;
  }
  const [header, ...rows] = records;
  if (!header) throw new BadRequest('invalid_import', `the file is empty: a header ${importColumns.join(',')} is expected`);
  const names = header.fields.map((f) => f.trim());
  const index = new Map(names.map((n, i) => [n, i]));
  const missing = importColumns.filter((c) => !index.has(c));
  if (missing.length) throw new BadRequest('invalid_import', `line ${header.line}: the header lacks ${missing.join(', ')}`);
  if (index.size !== names.length) throw new BadRequest('invalid_import', `line ${header.line}: a column is named twice`);

  const findings: { line: number; uscc: string; g: GradeInput }[] = [];
  for (const r of rows) {
    if (r.fields.length !== names.length) throw new BadRequest('invalid_import', `line ${r.line}: ${r.fields.length} fields where the header has ${names.length}`);
    const at = (c: (typeof importColumns)[number]) => r.fields[index.get(c)!].trim();
    const uscc = at('uscc');
    const u = validateUscc(uscc);
    if (!u.ok) throw new BadRequest('invalid_import', `line ${r.line}: uscc ${JSON.stringify(uscc)} is not a unified social credit code: ${u.reason}`);
    const g = { grade: at('grade'), source: at('source'), validFrom: at('validFrom'), validTo: at('validTo') };
    const problem = gradeProblem(g);
    if (problem) throw new BadRequest('invalid_import', `line ${r.line}: ${problem.message}`);
    findings.push({ line: r.line, uscc, g });
  }
  const bidders = await repo.biddersByUscc(tx, findings.map((f) => f.uscc));
  const unknown = findings.find((f) => !bidders.has(f.uscc));
  if (unknown) throw new BadRequest('invalid_import', `line ${unknown.line}: no bidder is registered with uscc ${unknown.uscc}`);

  const findingKey = (bidderId: string, g: GradeInput) => [bidderId, g.grade, g.source, g.validFrom, g.validTo].join('\u0000');
  const seen = new Set((await repo.findingsOf(tx, [...bidders.values()], creditFindingsReadMax)).map((r) => findingKey(r.bidder_id, gradeOf(r))));
  const fresh: repo.NewCreditGrade[] = [];
  for (const f of findings) {
    const bidderId = bidders.get(f.uscc)!;
    const key = findingKey(bidderId, f.g);
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push({ bidder_id: bidderId, grade: f.g.grade, source: f.g.source, valid_from: f.g.validFrom, valid_to: f.g.validTo, recorded_by: actor.id ?? actor.type });
  }
  for (const stored of await repo.insertGrades(tx, fresh)) await audited(tx, actor, stored);
  return { recorded: fresh.length, unchanged: findings.length - fresh.length };
}

// ---- what a bidder must secure (R4) -------------------------------------------------------------

/** The section's columns a requirement is computed from. */
export type RequirementSection = Pick<SectionRow, 'id' | 'deposit_amount_fen' | 'bid_deadline' | 'credit_reductions'>;

export const requirementKey = (sectionId: string, bidderId: string) => `${sectionId}\u0000${bidderId}`;

const reductionSection = (s: RequirementSection) => ({ depositAmountFen: s.deposit_amount_fen, bidDeadline: s.bid_deadline, creditReductions: s.credit_reductions as CreditReduction[] });

/** R4's requirement for each (section, bidder): the section's security, reduced for the grade
 *  the bidder holds at the section's current bid deadline. One query per distinct deadline day,
 *  none for sections that grant no reduction. */
export async function requirementsFor(tx: Tx, pairs: readonly { section: RequirementSection; bidderId: string }[]): Promise<Map<string, RequiredSecurity>> {
  const out = new Map<string, RequiredSecurity>();
  const byDay = new Map<string, { section: RequirementSection; bidderId: string }[]>();
  for (const p of pairs) {
    if (p.section.credit_reductions.length === 0) {
      out.set(requirementKey(p.section.id, p.bidderId), requiredSecurity(reductionSection(p.section), []));
      continue;
    }
    const day = businessDate(p.section.bid_deadline);
    const list = byDay.get(day);
    if (list) list.push(p);
    else byDay.set(day, [p]);
  }
  for (const [day, list] of byDay) {
    const findings = await repo.gradesCovering(tx, list.map((p) => p.bidderId), day, creditFindingsReadMax);
    for (const p of list) {
      const own = findings.filter((f) => f.bidder_id === p.bidderId).map(recordOf);
      out.set(requirementKey(p.section.id, p.bidderId), requiredSecurity(reductionSection(p.section), own));
    }
  }
  return out;
}

export async function requirementFor(tx: Tx, section: RequirementSection, bidderId: string): Promise<RequiredSecurity> {
  return (await requirementsFor(tx, [{ section, bidderId }])).get(requirementKey(section.id, bidderId))!;
}
