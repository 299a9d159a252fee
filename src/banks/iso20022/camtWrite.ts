// Pieces the camt.053 and camt.054 builders write alike, so that a booking reads the same in
// the notification and in the statement: its booking date, bank transaction code and return
// information.
import type { ReturnInfo } from '../types';
import { escapeXml } from '../xmlWrite';
import { isoAdditionalInfoCharsMax, isoCodeCharsMax, isoText } from './common';
import { formatShanghaiDateTime, shanghaiParts } from './time';

/** ExternalBankTransactionDomain1Code, ...Family1Code, ...SubFamily1Code: four characters each. */
const bankTransactionCodePattern = /^[A-Z0-9]{4}\/[A-Z0-9]{4}\/[A-Z0-9]{4}$/;

/** The code of an ordinary transfer, the only kind the builders wrote before codes were given:
 *  a reversal keeps its original's code (RvslInd says it is undone), so a reversed credit is
 *  still "received credit transfer". */
export function defaultBankTransactionCode(direction: 'credit' | 'debit', reversal = false): string {
  const originalWasCredit = reversal ? direction === 'debit' : direction === 'credit';
  return originalWasCredit ? 'PMNT/RCDT/DMCT' : 'PMNT/ICDT/DMCT';
}

export function bankTransactionCodeXml(code: string): string {
  if (!bankTransactionCodePattern.test(code)) throw new Error(`assertion: bank transaction code must be Domain/Family/SubFamily, got ${JSON.stringify(code)}`);
  const [domain, family, subFamily] = code.split('/');
  return `<BkTxCd><Domn><Cd>${domain}</Cd><Fmly><Cd>${family}</Cd><SubFmlyCd>${subFamily}</SubFmlyCd></Fmly></Domn></BkTxCd>`;
}

/** BookgDt: the moment of booking, or only its business date in Beijing when the bank reports
 *  no time (DateAndDateTime2Choice/Dt). */
export function bookingDateXml(bookedAt: string, dateOnly: boolean | undefined): string {
  const at = new Date(bookedAt);
  return dateOnly ? `<BookgDt><Dt>${shanghaiParts(at).date}</Dt></BookgDt>` : `<BookgDt><DtTm>${formatShanghaiDateTime(at)}</DtTm></BookgDt>`;
}

/** TxDtls/RtrInf (PaymentReturnReason5): a code of up to four characters is an
 *  ExternalReturnReason1Code, anything longer the bank's own (Prtry, Max35Text). */
export function returnInfoXml(info: ReturnInfo): string {
  const code = info.reasonCode.trim();
  if (code === '') throw new Error('assertion: a return needs its reason code');
  const rsn = code.length <= isoCodeCharsMax ? `<Rsn><Cd>${escapeXml(code)}</Cd></Rsn>` : `<Rsn><Prtry>${isoText(code, 35)}</Prtry></Rsn>`;
  const more = info.additionalInfo?.trim() ? `<AddtlInf>${isoText(info.additionalInfo, isoAdditionalInfoCharsMax)}</AddtlInf>` : '';
  return `<RtrInf>${rsn}${more}</RtrInf>`;
}
