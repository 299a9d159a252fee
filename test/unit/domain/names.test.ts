import { normalizeName, sameName } from '../../../src/domain/names';

describe('payer names', () => {
  it('R5 treats full-width letters, digits and brackets as their half-width forms', () => {
    expect(sameName('ＡＢＣ科技（北京）有限公司', 'ABC科技(北京)有限公司')).toBe(true);
    expect(normalizeName('第１２３号（分公司）')).toBe('第123号(分公司)');
  });
  it('R5 ignores spaces of every width and invisible characters', () => {
    expect(sameName('北京　某某 建设\t有限公司', '北京某某建设有限公司')).toBe(true);
    expect(sameName('北京某某\u200B建设有限公司', '北京某某建设有限公司')).toBe(true);
    expect(sameName(' 北京某某建设有限公司\u00A0', '北京某某建设有限公司')).toBe(true);
  });
  it('R5 ignores Latin case', () => {
    expect(sameName('abc Holdings', 'ABC HOLDINGS')).toBe(true);
    expect(sameName('ａｂｃ', 'ABC')).toBe(true);
  });
  it('R5 still tells different names apart', () => {
    expect(sameName('北京某某建设有限公司', '北京某某建设有限责任公司')).toBe(false);
    expect(sameName('北京某某建设有限公司', '北京某某建筑有限公司')).toBe(false);
    expect(sameName('某某(北京)有限公司', '某某有限公司')).toBe(false);
  });
});
