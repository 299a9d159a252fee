// Statuses on the public pages in words with a symbol and a dark colour, readable on a phone in
// sunlight (the console's coloured tags are too pale for WCAG AA contrast on these pages).
import { useLang } from '../../i18n';

type Tone = 'good' | 'bad' | 'neutral';

const words: Record<string, readonly [string, string, Tone]> = {
  // vouchers
  signed: ['已签章', 'signed', 'good'],
  pending: ['签章中', 'being signed', 'neutral'],
  failed: ['未能生成', 'could not be produced', 'bad'],
  // guarantees
  issued: ['已出具', 'issued', 'good'],
  amended: ['已修改', 'amended', 'good'],
  secured: ['已用于投标担保', 'securing a bid', 'good'],
  released: ['已解除', 'released', 'neutral'],
  claimed: ['已索赔', 'claimed', 'bad'],
  claim_paid: ['已赔付', 'claim paid', 'bad'],
  claim_refused: ['索赔被拒', 'claim refused', 'bad'],
  rejected: ['不予接受', 'rejected', 'bad'],
  cancelled: ['已撤销', 'cancelled', 'neutral'],
  expired: ['已过期', 'expired', 'neutral'],
};

const tones: Record<Tone, { symbol: string; colour: string }> = {
  good: { symbol: '✓', colour: '#135200' },
  bad: { symbol: '✗', colour: '#a8071a' },
  neutral: { symbol: '•', colour: '#262626' },
};

/** A status as words; one this page does not know is shown as the API spelt it. */
export function PublicStatus({ status }: { status: string }) {
  const { t } = useLang();
  const w = words[status];
  const tone = tones[w?.[2] ?? 'neutral'];
  return (
    <span data-status={status} style={{ color: tone.colour, fontWeight: 600 }}>
      <span aria-hidden>{tone.symbol} </span>
      {w ? t(w[0], w[1]) : status}
    </span>
  );
}

/** Yes or no in words and a symbol, for a fact such as "in force". */
export function YesNo({ yes, yesText, noText, testId }: { yes: boolean; yesText: string; noText: string; testId?: string }) {
  const tone = tones[yes ? 'good' : 'bad'];
  return (
    <span data-testid={testId} data-yes={yes} style={{ color: tone.colour, fontWeight: 600 }}>
      <span aria-hidden>{tone.symbol} </span>
      {yes ? yesText : noText}
    </span>
  );
}
