// 中文大写金额 for vouchers, following the People's Bank of China's 正确填写票据和结算凭证的
// 基本规定 (银发〔1997〕393号 annex):
// - 壹拾 is always written with its 壹 (￥100000.00 -> 人民币壹拾万元整);
// - zeros between digits are written as one 零 (￥6007.14 -> 陆仟零柒元壹角肆分);
// - where the rule allows either, we write the form it lists first and that reads as
//   spoken Chinese: no 零 after a unit that closes a 4-digit group when the next group starts
//   with a non-zero digit (￥107000.53 -> 壹拾万柒仟元零伍角叁分), but a 零 between 元 and a
//   non-zero 角 when the 元 digit is 0 (￥1680.32 -> 壹仟陆佰捌拾元零叁角贰分);
// - 角 = 0 with 分 ≠ 0 requires 零 after 元 (￥325.04 -> 叁佰贰拾伍元零肆分);
// - 整 follows 元 only; none after 角 (allowed) or 分 (forbidden).
import { amountIntegerDigitsMax } from './money';

const digits = '零壹贰叁肆伍陆柒捌玖';
const smallUnits = ['', '拾', '佰', '仟'];
const fenMax = 10n ** BigInt(amountIntegerDigitsMax + 2) - 1n;

export function toChineseCapital(fen: bigint): string {
  if (typeof fen !== 'bigint') throw new Error('assertion: fen must be a bigint');
  if (fen < 0n) throw new Error('assertion: a voucher amount is never negative');
  if (fen > fenMax) throw new Error(`assertion: more than ${amountIntegerDigitsMax} integer digits`);
  const yuan = fen / 100n;
  const jiao = Number((fen / 10n) % 10n);
  const fenDigit = Number(fen % 10n);
  if (fen === 0n) return '人民币零元整';

  let out = '人民币';
  if (yuan > 0n) out += `${integerWords(yuan)}元`;
  if (jiao === 0 && fenDigit === 0) return `${out}整`;
  if (jiao > 0) {
    if (yuan > 0n && yuan % 10n === 0n) out += '零';
    out += `${digits[jiao]}角`;
  } else if (yuan > 0n) {
    out += '零';
  }
  if (fenDigit > 0) out += `${digits[fenDigit]}分`;
  return out;
}

/** Words for a positive integer up to 15 digits: groups of 亿, then 万, then units. */
function integerWords(n: bigint): string {
  if (n <= 0n) throw new Error('assertion: integerWords takes a positive number');
  return groupWords(n, [
    [100_000_000n, '亿'],
    [10_000n, '万'],
  ]);
}

function groupWords(n: bigint, units: readonly (readonly [bigint, string])[]): string {
  if (units.length === 0) return belowTenThousand(Number(n));
  const [size, name] = units[0];
  if (n < size) return groupWords(n, units.slice(1));
  const high = n / size;
  const rest = n % size;
  // The high part may itself carry 万 (9999万亿 is written 玖仟玖佰玖拾玖万亿), so it recurses
  // through every unit below this one.
  let out = groupWords(high, units.slice(1)) + name;
  if (rest === 0n) return out;
  // A 零 stands for the zeros between this unit and the rest when the rest does not fill
  // the full width below it (1|0001 -> 壹万零壹; 1|0000|1000 -> 壹亿零壹仟).
  if (rest * 10n < size) out += '零';
  return out + groupWords(rest, units.slice(1));
}

function belowTenThousand(n: number): string {
  if (!Number.isInteger(n) || n <= 0 || n >= 10_000) throw new Error('assertion: 1..9999 expected');
  const ds = String(n).split('').map(Number);
  let out = '';
  let pendingZero = false;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    const unit = smallUnits[ds.length - 1 - i];
    if (d === 0) {
      pendingZero = true;
      continue;
    }
    if (pendingZero) out += '零';
    pendingZero = false;
    out += digits[d] + unit;
  }
  return out;
}
