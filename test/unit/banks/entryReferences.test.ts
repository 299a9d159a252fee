// Within one message, an AcctSvcrRef seen again under another NtryRef is another booking; the
// message remembers a bounded number of references.
import { EntryReferences, entryReferencesRememberedMax } from '../../../src/banks/iso20022/camtEntry';

describe('entry references within one message', () => {
  it('qualifies a reused AcctSvcrRef by its NtryRef, and keeps one under the same NtryRef as it is', () => {
    const refs = new EntryReferences();
    expect(refs.ownRef('B7', '0001')).toBe('B7');
    expect(refs.ownRef('B7', '0002')).toBe('B7/0002');
    expect(refs.ownRef('B7', '0001')).toBe('B7');
    expect(refs.ownRef('B7', undefined)).toBe('B7');
    expect(refs.ownRef(undefined, '0003')).toBeUndefined();
  });

  it(`remembers at most entryReferencesRememberedMax (${entryReferencesRememberedMax}) references: past it a reused one stays unqualified`, () => {
    const refs = new EntryReferences();
    for (let i = 0; i < entryReferencesRememberedMax; i++) refs.ownRef(`R${i}`, 'a');
    expect(refs.ownRef('R0', 'b')).toBe('R0/b');
    expect(refs.ownRef('LATE', 'a')).toBe('LATE');
    expect(refs.ownRef('LATE', 'b')).toBe('LATE');
  });
});
