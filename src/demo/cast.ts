// Who takes part in the demo and what each bidder will do, decided up front from the seed: the
// same seed gives the same story (who pays late, who pays twice, which guarantee is wrong),
// while names, USCCs and account numbers are fresh each run so runs never collide.
import { seededRandom } from '../domain/random';
import { randomBytes } from 'node:crypto';
import { iso7064Mod1110CheckDigit } from '../domain/bankCode';
import { usccCheckChar, usccCharset } from '../domain/uscc';

/** Below this the full set of mistakes (nine of them) does not fit beside a clean bidder. */
export const demoBiddersMin = 12;
export const demoBiddersMax = 2_000;
export const demoBiddersDefault = 200;
/** The seed of who does what and of the bank's faults when none is given: one run is every run. */
export const demoSeedDefault = 20261127;
/** About a quarter of bidders secure their bid with a guarantee (R8: as good as cash). */
export const guaranteeShare = 0.25;

export const depositFen = 5_000_000n; // ¥50,000.00
export const estimatedPriceFen = 1_000_000_000n; // ¥10,000,000.00; 2% (R1) is ¥200,000
export const basicOpeningFen = 20_000_000n; // ¥200,000.00 in each basic account
export const otherOpeningFen = 10_000_000n; // ¥100,000.00 in the general account of an R5 payer
export const shortPaymentFen = 3_000_000n; // ¥30,000.00 of the ¥50,000.00 required
export const bidValidityDays = 90;

export type Behaviour =
  | 'cash' // pays the deposit from its basic account in time
  | 'late' // R3: pays after the deadline
  | 'short_topup' // R4: pays short, then tops up before the deadline
  | 'short_never' // R4: pays short and never tops up
  | 'other_account' // R5: pays from its general account, not the basic account
  | 'twice' // R4: pays twice; the second payment is excess and returned
  | 'unknown_va' // R15: first pays to a mistyped sub-account (suspense), then correctly
  | 'closed_account' // R17: pays correctly, then closes its account before the refund
  | 'bank' // a bank guarantee from its basic-account bank
  | 'insurance'
  | 'guarantor'
  | 'wrong_bank' // R6: a bank guarantee from a bank that is not its basic-account bank
  | 'early_expiry'; // R2: an insurance policy that ends before the bid validity does

export const guaranteeBehaviours: readonly Behaviour[] = ['bank', 'insurance', 'guarantor', 'wrong_bank', 'early_expiry'];
export const expectedUnsecured: Readonly<Partial<Record<Behaviour, string>>> = { late: 'R3', short_never: 'R4', other_account: 'R5', wrong_bank: 'R6', early_expiry: 'R2' };

export interface Account {
  number: string;
  name: string;
  bankCode: string;
  openingFen: bigint;
}

export interface PlannedBidder {
  index: number;
  name: string;
  uscc: string;
  behaviour: Behaviour;
  basic: Account;
  /** The general account (一般存款账户) an R5 payer pays from. */
  other?: Account;
}

/** A valid CNAPS code: category, city, serial and the ISO 7064 MOD 11,10 check digit. */
export function cnapsCode(category: string, city: string, serial: string): string {
  const first11 = `${category}${city}${serial}`;
  return first11 + String(iso7064Mod1110CheckDigit(first11));
}

/** The guarantee-issuing bank's branch, and the categories cash bidders bank with. */
export const issuingBankCode = cnapsCode('102', '1000', '0005'); // 中国工商银行 (ICBC)
const cashBankCategories = ['102', '103', '104', '105', '301', '308'];
const wrongBankCategory = '104'; // 中国银行 (BOC): not the issuing bank

const regions = ['北京', '上海', '广州', '深圳', '杭州', '南京', '成都', '武汉', '西安', '重庆', '天津', '苏州'];
const trades = ['路桥建设', '市政工程', '建筑安装', '水利水电', '园林绿化', '交通设施', '电力工程', '智能科技', '钢结构', '装饰工程'];

export function planCast(count: number, seed: number): PlannedBidder[] {
  if (!Number.isInteger(count) || count < demoBiddersMin || count > demoBiddersMax) {
    throw new Error(`--bidders must be an integer from ${demoBiddersMin} to ${demoBiddersMax}, got ${count}`);
  }
  const rand = seededRandom(seed);
  const behaviours: Behaviour[] = [];
  const guarantees = Math.max(4, Math.round(count * guaranteeShare));
  behaviours.push('wrong_bank', 'early_expiry');
  const good: Behaviour[] = ['bank', 'insurance', 'guarantor'];
  for (let i = 0; i < guarantees - 2; i++) behaviours.push(good[i % good.length]);
  const many = count >= 100;
  for (let i = 0; i < (many ? 3 : 1); i++) behaviours.push('late');
  for (let i = 0; i < (many ? 2 : 1); i++) behaviours.push('other_account');
  behaviours.push('short_topup', 'short_never', 'twice', 'unknown_va', 'closed_account');
  while (behaviours.length < count) behaviours.push('cash');
  // Fisher–Yates with the seeded stream: who does what depends on the seed only.
  for (let i = behaviours.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [behaviours[i], behaviours[j]] = [behaviours[j], behaviours[i]];
  }
  // Identities are fresh per run (a rerun must not collide with what the last one registered).
  const fresh = randomBytes(count * 64);
  let f = 0;
  const digit = () => String(fresh[f++ % fresh.length] % 10);
  const digits = (n: number) => Array.from({ length: n }, digit).join('');
  const usccFresh = () => {
    let body = '91110000';
    while (body.length < 17) body += usccCharset[fresh[f++ % fresh.length] % usccCharset.length];
    return body + usccCheckChar(body);
  };
  return behaviours.map((behaviour, index) => {
    const name = `${regions[index % regions.length]}${trades[Math.floor(index / regions.length) % trades.length]}${String(index + 1).padStart(3, '0')}有限公司`;
    const category = behaviour === 'bank' ? '102' : behaviour === 'wrong_bank' ? wrongBankCategory : cashBankCategories[Math.floor(rand() * cashBankCategories.length)];
    const basic: Account = { number: `62${digits(17)}`, name, bankCode: cnapsCode(category, '1000', digits(4)), openingFen: basicOpeningFen };
    const other = behaviour === 'other_account' ? { number: `62${digits(17)}`, name, bankCode: cnapsCode('105', '1000', digits(4)), openingFen: otherOpeningFen } : undefined;
    return { index, name, uscc: usccFresh(), behaviour, basic, other };
  });
}
