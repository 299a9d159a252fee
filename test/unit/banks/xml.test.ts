import { Readable } from 'node:stream';
import { BankMessageInvalid } from '../../../src/banks/types';
import { xmlBodyBytesMax, xmlDepthMax } from '../../../src/banks/xmlLimits';
import { parseXmlTree, textAt } from '../../../src/banks/xmlRead';
import { identifyTree, sniffIsoMessage } from '../../../src/banks/xmlIsoMessage';
import { streamXml } from '../../../src/banks/xmlStream';
import { parseCamt054 } from '../../../src/banks/iso20022/camt054';
import { parsePain002 } from '../../../src/banks/iso20022/pain002';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { fixture, sample } from './fixtures';

describe('safe XML reading', () => {
  test('a billion-laughs document is refused before any entity is expanded', () => {
    expect(() => parseCamt054(fixture('billion-laughs.xml'))).toThrow(BankMessageInvalid);
    expect(() => parseCamt054(fixture('billion-laughs.xml'))).toThrow(/DOCTYPE/);
  });

  test('an external entity (XXE) is refused and no file is read', () => {
    expect(() => parsePain002(fixture('xxe.xml'))).toThrow(/DOCTYPE/);
  });

  test('a DOCTYPE is refused by the streaming reader too', async () => {
    await expect(parseCamt053Stream(fixture('billion-laughs.xml'), () => undefined)).rejects.toThrow(BankMessageInvalid);
  });

  test('an undeclared entity reference is a clear error, not a crash', () => {
    expect(() => parseXmlTree('<Document><A>&foo;</A></Document>')).toThrow(BankMessageInvalid);
  });

  test('a body over the size bound is refused without being parsed', () => {
    const big = Buffer.alloc(xmlBodyBytesMax + 1, 0x20);
    expect(() => parseXmlTree(big)).toThrow(/exceeds/);
  });

  test('nesting deeper than the bound is refused', () => {
    const deep = '<a>'.repeat(xmlDepthMax + 1) + '</a>'.repeat(xmlDepthMax + 1);
    expect(() => parseXmlTree(deep)).toThrow(/deeper/);
  });

  test('malformed XML is BankMessageInvalid', () => {
    expect(() => parseXmlTree('<Document><A></Document>')).toThrow(BankMessageInvalid);
    expect(() => parseXmlTree('')).toThrow(BankMessageInvalid);
    expect(() => parseCamt054('not xml at all')).toThrow(BankMessageInvalid);
  });

  test('a processing instruction whose target runs into its body is refused by both readers; with a space, or in a comment, it is read', async () => {
    const streamed = (doc: string) => streamXml(Readable.from([Buffer.from(doc)]), { collect: () => false });
    for (const doc of ['<?x?m version="1.0"?><a/>', '<a>t<?x?m?>u</a>']) {
      expect(() => parseXmlTree(doc)).toThrow(/processing instruction x not followed by a space/);
      await expect(streamed(doc)).rejects.toThrow(/processing instruction x not followed by a space/);
    }
    for (const doc of ['<?x ?m?><a/>', '<a><?x?></a>', '<a><!--<?x?m?>--></a>', '<a><![CDATA[<?x?m?>]]></a>']) {
      expect(parseXmlTree(doc).name).toBe('a');
      await expect(streamed(doc)).resolves.not.toThrow();
    }
  });

  test('leaves stay strings: leading zeros, 22-digit accounts and decimals survive', () => {
    const root = parseXmlTree('<D><Id>0000123456789012345678</Id><Amt Ccy="CNY">00010.10</Amt><B>true</B></D>');
    expect(textAt(root, 'Id')).toBe('0000123456789012345678');
    expect(textAt(root, 'Amt')).toBe('00010.10');
    expect(textAt(root, 'B')).toBe('true');
  });

  test('CDATA text is read', () => {
    expect(textAt(parseXmlTree('<D><A><![CDATA[a < b]]></A></D>'), 'A')).toBe('a < b');
  });

  test('GBK-encoded files (declared in the prologue) are decoded', () => {
    const n = parseCamt054(fixture('camt054-gbk.xml'));
    expect(n.credits[0].debtor.name).toBe('丙投标人股份有限公司');
    expect(n.credits[0].remittance).toBe('保证金 T-7');
    expect(n.credits[0].amountFen).toBe(1n);
  });

  test('an unsupported encoding is a clear error', () => {
    expect(() => parseXmlTree(Buffer.from('<?xml version="1.0" encoding="x-klingon"?><D/>'))).toThrow(/not supported/);
  });
});

describe('message detection', () => {
  test('type and version come from the namespace when declared', () => {
    const info = sniffIsoMessage(parseXmlTree(sample('camt.054.001.02__genkgo_v2.xml')));
    expect(info).toMatchObject({ type: 'camt.054', version: '001.02', namespaceMisspelled: false });
  });

  test('a prefixed namespace is matched by local names', () => {
    const info = sniffIsoMessage(parseXmlTree(fixture('camt054-batched-credit.xml')));
    expect(info).toMatchObject({ type: 'camt.054', version: '001.08', namespace: 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08' });
  });

  test('a capitalised Xmlns is no namespace: the type comes from the structure, flagged', () => {
    const info = sniffIsoMessage(parseXmlTree(sample('invalid/pain.002.001.03__svapnil_cross_river_txn_rejected.xml')));
    expect(info.type).toBe('pain.002');
    expect(info.namespaceMisspelled).toBe(true);
    expect(info.namespace).toBeUndefined();
  });

  test('no namespace at all: detected from the root structure', () => {
    const info = sniffIsoMessage(parseXmlTree('<Document><BkToCstmrStmt/></Document>'));
    expect(info).toMatchObject({ type: 'camt.053', namespaceMisspelled: false });
    expect(info.version).toBeUndefined();
  });

  test('a namespace that contradicts the structure is refused', () => {
    const xml = '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><BkToCstmrStmt/></Document>';
    expect(() => sniffIsoMessage(parseXmlTree(xml))).toThrow(/namespace says pain.002/);
  });

  test('a foreign namespace is refused', () => {
    const xml = '<Document xmlns="urn:example:other"><BkToCstmrStmt/></Document>';
    expect(() => sniffIsoMessage(parseXmlTree(xml))).toThrow(/not an ISO 20022/);
  });

  test('a Document wrapped in an envelope (AppHdr + Document) is found', () => {
    const xml = '<BizMsg><AppHdr><BizMsgIdr>x</BizMsgIdr></AppHdr><Document><CstmrPmtStsRpt/></Document></BizMsg>';
    expect(identifyTree(parseXmlTree(xml), 'pain.002').message.name).toBe('CstmrPmtStsRpt');
  });

  test('a message of the wrong type is refused with what it was', () => {
    expect(() => parseCamt054(sample('pain.002.001.10__selfauthored_rjct.xml'))).toThrow(/expected camt.054, got pain.002/);
  });
});

describe('streaming', () => {
  test('collected elements arrive in order and input is not read while the consumer is busy', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => `<Ntry><N>${i}</N></Ntry>`).join('');
    const doc = Buffer.from(`<R>${items}</R>`);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < doc.length; i += 1024) {
          pulled += 1;
          yield doc.subarray(i, i + 1024);
        }
      })(),
    );
    const seen: string[] = [];
    let maxPulledWhileBusy = 0;
    await streamXml(source, {
      collect: (path) => path[path.length - 1] === 'Ntry',
      onElement: async (el) => {
        seen.push(textAt(el, 'N')!);
        if (seen.length === 10) {
          const before = pulled;
          await new Promise((r) => setTimeout(r, 20));
          maxPulledWhileBusy = pulled - before;
        }
      },
    });
    expect(seen).toHaveLength(5000);
    expect(seen[4999]).toBe('4999');
    // Readable.from may prefetch one chunk, never the rest of the document.
    expect(maxPulledWhileBusy).toBeLessThanOrEqual(2);
  });

  test('attributes named __proto__ and constructor are attributes like any other, in both readers: read as given, never repeated by inheritance', async () => {
    const doc = '<R><E __proto__="p" constructor="c" toString="t" Ccy="CNY"/><E constructor="d"/><E a="1" a="2"/></R>';
    const seen: Record<string, string>[] = [];
    const read = streamXml(doc, {
      collect: (path, loc) => {
        if (path[path.length - 1] === 'E') seen.push({ ...loc.attrs[loc.attrs.length - 1] });
        return false;
      },
    });
    await expect(read).rejects.toThrow(/attribute a repeated/);
    expect(seen).toHaveLength(2);
    expect(Object.entries(seen[0])).toEqual([['__proto__', 'p'], ['constructor', 'c'], ['toString', 't'], ['Ccy', 'CNY']]);
    expect(Object.entries(seen[1])).toEqual([['constructor', 'd']]);
    // The whole-document reader keeps them the same way.
    const tree = parseXmlTree('<R><E __proto__="p" constructor="c" toString="t" Ccy="CNY"/></R>');
    expect(Object.entries(tree.children[0].attrs)).toEqual([['__proto__', 'p'], ['constructor', 'c'], ['toString', 't'], ['Ccy', 'CNY']]);
    expect(() => parseXmlTree('<R><E a="1" a="2"/></R>')).toThrow(BankMessageInvalid);
    // Nothing reached the objects every other value shares.
    expect(({} as Record<string, unknown>).p).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'Ccy')).toBe(false);
  });
});
