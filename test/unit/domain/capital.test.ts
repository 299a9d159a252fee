import { toChineseCapital } from '../../../src/domain/capital';

describe('Chinese capital amounts for vouchers', () => {
  const vectors: [bigint, string][] = [
    [0n, '人民币零元整'],
    [5n, '人民币伍分'],
    [15n, '人民币壹角伍分'],
    [50n, '人民币伍角'],
    [100n, '人民币壹元整'],
    [105n, '人民币壹元零伍分'],
    [110n, '人民币壹元壹角'],
    [1000n, '人民币壹拾元整'],
    [1010n, '人民币壹拾元零壹角'],
    [32504n, '人民币叁佰贰拾伍元零肆分'],
    [101000n, '人民币壹仟零壹拾元整'],
    [140950n, '人民币壹仟肆佰零玖元伍角'],
    [168032n, '人民币壹仟陆佰捌拾元零叁角贰分'],
    [600714n, '人民币陆仟零柒元壹角肆分'],
    [1000010n, '人民币壹万元零壹角'],
    [1640902n, '人民币壹万陆仟肆佰零玖元零贰分'],
    [5000000n, '人民币伍万元整'],
    [10000000n, '人民币壹拾万元整'],
    [10700053n, '人民币壹拾万柒仟元零伍角叁分'],
    [20000000n, '人民币贰拾万元整'],
    [80000000n, '人民币捌拾万元整'],
    [100000100n, '人民币壹佰万零壹元整'],
    [123456789n, '人民币壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分'],
    [1000000000n, '人民币壹仟万元整'],
    [10000000000n, '人民币壹亿元整'],
    [10000000100n, '人民币壹亿零壹元整'],
    [10000100000n, '人民币壹亿零壹仟元整'],
    [10001000000n, '人民币壹亿零壹万元整'],
    [10100000000n, '人民币壹亿零壹佰万元整'],
    [11000000000n, '人民币壹亿壹仟万元整'],
    [100000000000n, '人民币壹拾亿元整'],
    [100000000000000n, '人民币壹万亿元整'],
    [100010000000000n, '人民币壹万零壹亿元整'],
    [10001000000000000n, '人民币壹佰万零壹佰亿元整'],
    [100000000000100n, '人民币壹万亿零壹元整'],
    [99999999999999999n, '人民币玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分'],
  ];
  it.each(vectors)('writes %p fen as %s', (fen, words) => {
    expect(toChineseCapital(fen)).toBe(words);
  });
  it('never writes 整 after 分, and only after 元', () => {
    for (const [fen, words] of vectors) {
      if (fen % 10n !== 0n) expect(words.endsWith('分')).toBe(true);
      if (words.endsWith('整')) expect(words.endsWith('元整')).toBe(true);
    }
  });
  it('refuses negative amounts and more than 15 integer digits', () => {
    expect(() => toChineseCapital(-1n)).toThrow();
    expect(() => toChineseCapital(100000000000000000n)).toThrow(/15 integer digits/);
  });
});
