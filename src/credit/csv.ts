// The CSV that credit platforms export, read strictly: RFC 4180 fields (quoted fields may hold
// commas, quotes doubled, line breaks), a header naming the columns, every record as wide as the
// header. Pure.

export class CsvError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

/** A field longer than this is not a grade, a date, a code or a platform's name. */
export const csvFieldCharsMax = 1000;

/** Records of `text` as arrays of fields, each with the line it starts on; blank lines skipped;
 *  at most `recordsMax` records (more throws). */
export function parseCsv(text: string, recordsMax: number): { line: number; fields: string[] }[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  let afterQuote = false;
  const endField = () => {
    if (field.length > csvFieldCharsMax) throw new CsvError(recordLine, `a field is longer than ${csvFieldCharsMax} characters`);
    fields.push(field);
    field = '';
    fieldStarted = false;
    afterQuote = false;
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) {
      if (records.length >= recordsMax) throw new CsvError(recordLine, `more than ${recordsMax} records`);
      records.push({ line: recordLine, fields });
    }
    fields = [];
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (fieldStarted || field.length > 0) throw new CsvError(line, 'a quote inside an unquoted field');
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      if (afterQuote) throw new CsvError(line, 'text after a closing quote');
      field += c;
    }
  }
  if (quoted) throw new CsvError(recordLine, 'a quoted field is not closed');
  if (field.length > 0 || fields.length > 0 || fieldStarted) endRecord();
  return records;
}
