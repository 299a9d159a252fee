// What the parsers make of a corpus file, as plain JSON: amounts in fen as strings (JSON has no
// bigint, and a double could not carry every fen), everything else as the parser returned it.
import { parseNotification } from '../../../src/banks/adapters';
import { parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../../src/banks/types';
import { sniffIsoMessage } from '../../../src/banks/xmlIsoMessage';
import { parseXmlTree } from '../../../src/banks/xmlRead';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** bigint -> decimal string, recursively; undefined members dropped (as JSON.stringify does). */
export function toJson(value: unknown): Json {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value as Json;
}

export async function corpusReading(xml: Buffer): Promise<Json> {
  const info = sniffIsoMessage(parseXmlTree(xml));
  const message = { type: info.type, version: info.version ?? null };
  if (info.type === 'camt.054') {
    const n = parseNotification(xml, 'application/xml');
    return toJson({ message, messageId: n.messageId, ignored: n.ignored, credits: n.credits, reversals: n.reversals ?? [] });
  }
  if (info.type === 'camt.053') {
    const entries: StatementEntry[] = [];
    const summary = await parseCamt053Stream(xml, (e) => {
      entries.push(e);
    });
    return toJson({ message, summary, entries });
  }
  throw new Error(`corpus files are camt.053 or camt.054, not ${info.type}`);
}
