import {
  bankCategory,
  bankCategoryName,
  iso7064Mod1110CheckDigit,
  isValidBankCode,
  namesOnlyCategory,
  sameBankForGuarantee,
  validateBankCode,
} from '../../../src/domain/bankCode';

const withCheck = (first11: string) => first11 + iso7064Mod1110CheckDigit(first11);

describe('CNAPS bank codes', () => {
  it('accepts real codes', () => {
    for (const c of ['102100099996', '308584000013', '313651027012']) expect(validateBankCode(c)).toEqual({ ok: true });
  });
  it('rejects every single changed digit and wrong lengths', () => {
    const good = '308584000013';
    for (let i = 0; i < 12; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === good[i]) continue;
        expect(isValidBankCode(good.slice(0, i) + d + good.slice(i + 1))).toBe(false);
      }
    }
    expect(validateBankCode('30858400001')).toMatchObject({ ok: false, reason: expect.stringMatching(/12 digits/) });
    expect(validateBankCode('3085840000133')).toMatchObject({ ok: false });
    expect(validateBankCode(' 308584000013')).toMatchObject({ ok: false });
    expect(validateBankCode(308584000013)).toMatchObject({ ok: false });
  });
  it('names the category', () => {
    expect(bankCategory('102100099996')).toBe('102');
    expect(bankCategoryName('102100099996')).toMatch(/工商银行/);
    expect(bankCategoryName('308584000013')).toBe('招商银行');
    expect(bankCategoryName('999100000000')).toBe('bank category 999');
  });
  it('knows which prefixes name only a category of banks', () => {
    for (const p of ['313', '314', '317', '320', '402']) expect(namesOnlyCategory(withCheck(`${p}65102701`))).toBe(true);
    for (const p of ['102', '105', '301', '308', '403']) expect(namesOnlyCategory(withCheck(`${p}65102701`))).toBe(false);
  });

  describe('R6 guarantee bank match', () => {
    const icbcBeijing = '102100099996';
    const icbcShenzhen = withCheck('10258400001');
    const cmbShenzhen = '308584000013';
    const cityBankA = '313651027012';
    const cityBankB = withCheck('31365102702');
    const ruralCredit = withCheck('40265100001');

    it('R6 accepts another branch of the same national bank under policy bank', () => {
      expect(sameBankForGuarantee(icbcShenzhen, icbcBeijing, 'bank')).toMatchObject({ ok: true });
    });
    it('R6 rejects a different bank under policy bank', () => {
      const r = sameBankForGuarantee(cmbShenzhen, icbcBeijing, 'bank');
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/招商银行.*工商银行/);
    });
    it('R6 requires the exact branch for city and rural banks under policy bank', () => {
      expect(sameBankForGuarantee(cityBankA, cityBankA, 'bank').ok).toBe(true);
      const r = sameBankForGuarantee(cityBankB, cityBankA, 'bank');
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/names only a category/);
      expect(sameBankForGuarantee(ruralCredit, cityBankA, 'bank').ok).toBe(false);
      expect(sameBankForGuarantee(icbcBeijing, ruralCredit, 'bank').ok).toBe(false);
    });
    it('R6 requires the same 12 digits under policy branch', () => {
      expect(sameBankForGuarantee(icbcShenzhen, icbcBeijing, 'branch').ok).toBe(false);
      expect(sameBankForGuarantee(icbcBeijing, icbcBeijing, 'branch').ok).toBe(true);
    });
    it('R6 accepts anything under policy off', () => {
      expect(sameBankForGuarantee(cmbShenzhen, icbcBeijing, 'off').ok).toBe(true);
    });
    it('R6 fails with a reason when a code is invalid', () => {
      const r = sameBankForGuarantee('102100099997', icbcBeijing, 'bank');
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/issuing bank code.*invalid/);
    });
  });
});
