// The people who can look at the demo's section in the console afterwards: a centre clerk, the
// section's tenderee and two of its bidders, made the way an operator makes them (`bidbond users
// create`), each with a random password printed once and written beside the other outputs.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Knex } from 'knex';
import type { Role } from '../http/auth';
import { createUser } from '../users/service';
import type { World } from './scenario';

/** Bidders given a sign-in: enough to see that each sees only its own records. */
export const demoBidderSignIns = 2;
/** 16 base64url characters: above the password minimum, short enough to type. */
export const demoPasswordBytes = 12;

export interface DemoSignIn {
  role: Role;
  /** Who the person speaks for, in words. */
  who: string;
  login: string;
  password: string;
}

export async function createDemoPeople(db: Knex, w: World, roster: { entries: { bidderId: string; status: string }[] }, runTag: string): Promise<DemoSignIn[]> {
  const tag = runTag.toLowerCase();
  // Bidders that secured the section have the most to look at: deposits, refunds, vouchers.
  const secured = new Set(roster.entries.filter((e) => e.status === 'secured').map((e) => e.bidderId));
  const bidders = [...w.bidders].sort((a, b) => Number(secured.has(b.id)) - Number(secured.has(a.id))).slice(0, demoBidderSignIns);
  const wanted: { role: Role; who: string; login: string; tendereeId?: string; bidderId?: string }[] = [
    { role: 'centre', who: 'centre clerk', login: `clerk.${tag}` },
    { role: 'tenderee', who: `tenderee ${w.tendereeRecord.name}`, login: `tenderee.${tag}`, tendereeId: w.tendereeRecord.id },
    ...bidders.map((b, i) => ({ role: 'bidder' as const, who: `bidder ${b.name}`, login: `bidder${i + 1}.${tag}`, bidderId: b.id })),
  ];
  const out: DemoSignIn[] = [];
  for (const p of wanted) {
    const password = randomBytes(demoPasswordBytes).toString('base64url');
    await db.transaction((tx) => createUser(tx, { type: 'operator', id: 'demo' }, { login: p.login, role: p.role, tendereeId: p.tendereeId, bidderId: p.bidderId, password }));
    out.push({ role: p.role, who: p.who, login: p.login, password });
  }
  return out;
}

/** Columns a terminal gives the text: two for each CJK (East Asian wide) character. */
function displayWidth(text: string): number {
  let n = 0;
  for (const ch of text) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return n;
}
const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

export function renderSignIns(consoleUrl: string, signIns: DemoSignIn[], file?: string): string {
  const lines = [`Console: ${consoleUrl} — sign in as${file ? ` (also in ${file})` : ''}:`];
  const whoWidth = Math.max(...signIns.map((s) => displayWidth(s.who)));
  const loginWidth = Math.max(...signIns.map((s) => s.login.length));
  for (const s of signIns) lines.push(`  ${pad(s.who, whoWidth)}  ${pad(s.login, loginWidth)}  ${s.password}`);
  return lines.join('\n');
}

/** Readable by its owner only: it holds passwords. */
export function writeSignIns(file: string, consoleUrl: string, signIns: DemoSignIn[]): void {
  writeFileSync(file, `${renderSignIns(consoleUrl, signIns)}\n`, { mode: 0o600 });
}
