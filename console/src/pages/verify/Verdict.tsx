// A verdict said in Chinese and English at once, whatever the language switch says: the person
// holding the phone may be showing it to someone who reads the other. Each verdict has its own
// icon shape and words as well as its colour, so it reads the same without colour.
import { CheckCircleFilled, CloseCircleFilled, ExclamationCircleFilled, QuestionCircleFilled } from '@ant-design/icons';
import { useEffect, useRef, type ReactNode } from 'react';

export type VerdictLook = 'good' | 'bad' | 'warning' | 'unknown';

interface Bilingual {
  zh: string;
  en: string;
}

// Text colours reach 7:1 on their backgrounds (WCAG AAA for the large headline, AA for the rest).
const looks: Record<VerdictLook, { icon: ReactNode; colour: string; background: string }> = {
  good: { icon: <CheckCircleFilled />, colour: '#135200', background: '#f0f9eb' },
  bad: { icon: <CloseCircleFilled />, colour: '#a8071a', background: '#fff1f0' },
  warning: { icon: <ExclamationCircleFilled />, colour: '#7a4100', background: '#fff7e6' },
  unknown: { icon: <QuestionCircleFilled />, colour: '#262626', background: '#f5f5f5' },
};

export function Verdict({ look, headline, message, testId, children }: { look: VerdictLook; headline: Bilingual; message?: Bilingual; testId?: string; children?: ReactNode }) {
  const l = looks[look];
  const ref = useRef<HTMLElement>(null);
  // On a phone the answer appears below the fold, under the file chooser or the form.
  useEffect(() => {
    ref.current?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
  }, []);
  return (
    <section
      ref={ref}
      role="status"
      aria-live="polite"
      data-testid={testId}
      data-look={look}
      style={{ borderLeft: `6px solid ${l.colour}`, background: l.background, borderRadius: 8, padding: '12px 16px' }}
    >
      <h2 style={{ margin: 0, color: l.colour, display: 'flex', gap: 12, alignItems: 'center' }}>
        <span aria-hidden style={{ fontSize: 36, lineHeight: 1 }}>
          {l.icon}
        </span>
        <span style={{ display: 'flex', flexDirection: 'column' }}>
          <span lang="zh-CN" style={{ fontSize: 24, fontWeight: 700, lineHeight: 1.3 }}>
            {headline.zh}
          </span>
          <span lang="en" style={{ fontSize: 20, fontWeight: 600, lineHeight: 1.3 }}>
            {headline.en}
          </span>
        </span>
      </h2>
      {message && (
        <div style={{ marginTop: 8, color: '#262626', fontSize: 15 }}>
          <p lang="zh-CN" style={{ margin: '4px 0' }}>
            {message.zh}
          </p>
          <p lang="en" style={{ margin: '4px 0' }}>
            {message.en}
          </p>
        </div>
      )}
      {children}
    </section>
  );
}
