// The statistics as an Office Open XML workbook (.xlsx), written with Node alone: a workbook is
// a ZIP of a few XML parts, and zlib gives both the deflate and the CRC-32 a ZIP needs. One
// sheet, a header row, one row per group and a totals row; amounts are numbers with two
// decimals (exact to the fen in a spreadsheet's double below ¥10¹³), shares are percentages.
import { crc32, deflateRawSync } from 'node:zlib';
import type { presentStatistics } from './present';

type Presented = ReturnType<typeof presentStatistics>;
type Row = Presented['groups'][number];

type Cell = { text: string } | { number: string; style: 'amount' | 'count' | 'share' | 'days' } | null;

const styleIndex = { amount: 1, count: 2, share: 3, days: 4 } as const;

const columns: { header: string; cell: (r: Row) => Cell }[] = [
  { header: 'Group 分组', cell: (r) => ({ text: r.key ?? '—' }) },
  { header: 'Name 名称', cell: (r) => (r.name ? { text: r.name } : null) },
  { header: 'Sections created 发布标段', cell: (r) => count(r.sections.created) },
  { header: 'Sections opened 开标标段', cell: (r) => count(r.sections.opened) },
  { header: 'Sections terminated 终止', cell: (r) => count(r.sections.terminated) },
  { header: 'Bids secured 有效投标担保', cell: (r) => count(r.bids.secured) },
  { header: 'By cash 现金保证金 (count)', cell: (r) => count(r.bids.cash.count) },
  { header: 'By cash (amount)', cell: (r) => amount(r.bids.cash.amount) },
  { header: 'By guarantee 保函 (count)', cell: (r) => count(r.bids.guarantee.count) },
  { header: 'By guarantee (amount)', cell: (r) => amount(r.bids.guarantee.amount) },
  { header: '保函替代率 (by count)', cell: (r) => shareCell(r.bids.guaranteeShare.byCount) },
  { header: '保函替代率 (by amount)', cell: (r) => shareCell(r.bids.guaranteeShare.byAmount) },
  { header: 'Bank guarantees 银行保函 (count)', cell: (r) => count(r.guarantees.bank.count) },
  { header: 'Bank guarantees (amount)', cell: (r) => amount(r.guarantees.bank.amount) },
  { header: 'Insurance 保证保险 (count)', cell: (r) => count(r.guarantees.insurance.count) },
  { header: 'Insurance (amount)', cell: (r) => amount(r.guarantees.insurance.amount) },
  { header: 'Guarantor 担保公司 (count)', cell: (r) => count(r.guarantees.guarantor.count) },
  { header: 'Guarantor (amount)', cell: (r) => amount(r.guarantees.guarantor.amount) },
  { header: 'Guarantees rejected', cell: (r) => count(r.guarantees.rejected) },
  { header: 'Deposits received 收到保证金 (count)', cell: (r) => count(r.deposits.received.count) },
  { header: 'Deposits received (amount)', cell: (r) => amount(r.deposits.received.amount) },
  { header: 'Refunds paid 退还 (count)', cell: (r) => count(r.refunds.paid.count) },
  { header: 'Refunds paid (principal)', cell: (r) => amount(r.refunds.paid.amount) },
  { header: 'Interest paid 利息', cell: (r) => amount(r.refunds.interestPaid) },
  { header: 'Late fees paid 滞纳金', cell: (r) => amount(r.refunds.lateFeesPaid) },
  { header: 'Refunds on time', cell: (r) => count(r.refunds.onTime) },
  { header: 'Refunds late', cell: (r) => count(r.refunds.late) },
  { header: 'R11 on time', cell: (r) => count(r.refunds.r11.onTime) },
  { header: 'R11 late', cell: (r) => count(r.refunds.r11.late) },
  { header: 'Days held, mean 占用天数', cell: (r) => days(r.refunds.daysHeld.mean) },
  { header: 'Days held, p95', cell: (r) => days(r.refunds.daysHeld.p95) },
  { header: 'Forfeitures 不予退还 (count)', cell: (r) => count(r.forfeitures.count) },
  { header: 'Forfeitures (amount)', cell: (r) => amount(r.forfeitures.amount) },
  { header: 'Claims paid 索赔 (count)', cell: (r) => count(r.claimsPaid.count) },
  { header: 'Claims paid (amount)', cell: (r) => amount(r.claimsPaid.amount) },
];

function count(n: number): Cell {
  return { number: String(n), style: 'count' };
}
function amount(s: string): Cell {
  return { number: s, style: 'amount' };
}
function shareCell(s: string | null): Cell {
  return s === null ? null : { number: s, style: 'share' };
}
function days(s: string | null): Cell {
  return s === null ? null : { number: s, style: 'days' };
}

function xmlEscape(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than written as an invalid part.
  return s
    .replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function columnName(i: number): string {
  let n = i + 1;
  let s = '';
  while (n > 0) {
    const m = (n - 1) % 26;
    s = String.fromCharCode(65 + m) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function cellXml(cell: Cell, ref: string, headerStyle = false): string {
  if (cell === null) return '';
  if ('text' in cell) return `<c r="${ref}" t="inlineStr"${headerStyle ? ' s="5"' : ''}><is><t xml:space="preserve">${xmlEscape(cell.text)}</t></is></c>`;
  return `<c r="${ref}" s="${styleIndex[cell.style]}"><v>${cell.number}</v></c>`;
}

function sheetXml(s: Presented): string {
  const rows: string[] = [];
  const title = `bidbond statistics ${s.from} – ${s.to}${s.groupBy ? `, by ${s.groupBy}` : ''} (${s.currency})`;
  rows.push(`<row r="1">${cellXml({ text: title }, 'A1', true)}</row>`);
  rows.push(`<row r="2">${columns.map((c, i) => cellXml({ text: c.header }, `${columnName(i)}2`, true)).join('')}</row>`);
  const body: Row[] = [...s.groups, { key: 'Total 合计', name: null, ...s.totals }];
  body.forEach((r, n) => {
    const rowNo = n + 3;
    rows.push(`<row r="${rowNo}">${columns.map((c, i) => cellXml(c.cell(r), `${columnName(i)}${rowNo}`)).join('')}</row>`);
  });
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
    `<cols><col min="1" max="2" width="30" customWidth="1"/><col min="3" max="${columns.length}" width="18" customWidth="1"/></cols>` +
    `<sheetData>${rows.join('')}</sheetData></worksheet>`
  );
}

const stylesXml =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
  '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0"/></numFmts>' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="6">' +
  '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
  '</cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';

const contentTypesXml =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
  '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
  '</Types>';

const rootRelsXml =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>' +
  '</Relationships>';

const workbookXml =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
  '<sheets><sheet name="Statistics" sheetId="1" r:id="rId1"/></sheets></workbook>';

const workbookRelsXml =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>' +
  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' +
  '</Relationships>';

/** A ZIP archive of deflated entries (APPNOTE 6.3: local headers, central directory, end
 *  record; no ZIP64, which a workbook of one sheet never needs). */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // 1980-01-01 00:00, the earliest DOS time: the archive's bytes depend only on its content.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const deflated = deflateRawSync(f.data);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(deflated.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(deflated.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, deflated);
    centrals.push(central, name);
    offset += local.length + name.length + deflated.length;
  }
  const centralBytes = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBytes, end]);
}

export function statisticsWorkbook(s: Presented): Buffer {
  return zip([
    { name: '[Content_Types].xml', data: Buffer.from(contentTypesXml, 'utf8') },
    { name: '_rels/.rels', data: Buffer.from(rootRelsXml, 'utf8') },
    { name: 'xl/workbook.xml', data: Buffer.from(workbookXml, 'utf8') },
    { name: 'xl/_rels/workbook.xml.rels', data: Buffer.from(workbookRelsXml, 'utf8') },
    { name: 'xl/styles.xml', data: Buffer.from(stylesXml, 'utf8') },
    { name: 'xl/worksheets/sheet1.xml', data: Buffer.from(sheetXml(s), 'utf8') },
  ]);
}
