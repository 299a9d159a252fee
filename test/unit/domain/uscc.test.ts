import { isValidUscc, normalizeUscc, usccCheckChar, validateUscc } from '../../../src/domain/uscc';

describe('USCC (GB 32100-2015)', () => {
  it('accepts real codes', () => {
    for (const s of ['91512081MA62K0260E', '91330100716105852F', '911100007109208380']) {
      expect(validateUscc(s)).toEqual({ ok: true });
      expect(isValidUscc(s)).toBe(true);
    }
  });
  it('rejects characters outside the 31-character set (I O Z S V)', () => {
    const r = validateUscc('91350100M000100Y4Z');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/not allowed/);
    for (const c of ['I', 'O', 'Z', 'S', 'V']) expect(isValidUscc(`9133010071610585${c}F`)).toBe(false);
  });
  it('rejects a wrong check character, and any single changed character', () => {
    expect(validateUscc('91330100716105852G')).toEqual({ ok: false, reason: 'check character does not match' });
    const good = '91512081MA62K0260E';
    for (let i = 8; i < 17; i++) {
      const changed = good.slice(0, i) + (good[i] === '1' ? '2' : '1') + good.slice(i + 1);
      expect(isValidUscc(changed)).toBe(false);
    }
  });
  it('computes check characters of 0 (31 mod 31) and letters', () => {
    expect(usccCheckChar('91110000710920838')).toBe('0');
    expect(usccCheckChar('91512081MA62K0260')).toBe('E');
  });
  it('checks the structure: authority, type, division', () => {
    const withCheck = (first17: string) => first17 + usccCheckChar(first17);
    expect(isValidUscc(withCheck('12100000400000001'))).toBe(true); // 机构编制, central
    expect(isValidUscc(withCheck('N2330100MA0000001'))).toBe(true);
    expect(validateUscc(withCheck('B1330100716105852'))).toMatchObject({ ok: false, reason: expect.stringMatching(/registration-authority/) });
    expect(validateUscc(withCheck('90330100716105852'))).toMatchObject({ ok: false, reason: expect.stringMatching(/organisation-type/) });
    expect(validateUscc(withCheck('913301A0716105852'))).toMatchObject({ ok: false, reason: expect.stringMatching(/6-digit/) });
    expect(validateUscc(withCheck('91990100716105852'))).toMatchObject({ ok: false, reason: expect.stringMatching(/province/) });
  });
  it('rejects wrong lengths, lower case and non-strings', () => {
    expect(validateUscc('91330100716105852')).toMatchObject({ ok: false, reason: expect.stringMatching(/18 characters/) });
    expect(validateUscc('91512081ma62k0260e')).toMatchObject({ ok: false, reason: expect.stringMatching(/upper case/) });
    expect(isValidUscc(normalizeUscc(' 91512081ma62k0260e '))).toBe(true);
    expect(isValidUscc(91330100716105852)).toBe(false);
    expect(isValidUscc(null)).toBe(false);
  });
});
