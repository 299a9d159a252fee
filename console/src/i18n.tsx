// Chinese by default, English on the switch; the choice is kept in the browser. Texts are written
// in place as pairs, t('中文', 'English'), so each page reads in both languages at once.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

export type Lang = 'zh' | 'en';
const storageKey = 'bidbond.lang';

interface LangContext {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (zh: string, en: string) => string;
}

const Ctx = createContext<LangContext>({ lang: 'zh', setLang: () => undefined, t: (zh) => zh });

function initialLang(): Lang {
  try {
    const stored = window.localStorage.getItem(storageKey);
    if (stored === 'zh' || stored === 'en') return stored;
  } catch {
    // Storage refused (private mode): Chinese.
  }
  return 'zh';
}

export function LangProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
    try {
      window.localStorage.setItem(storageKey, next);
    } catch {
      // Not kept; the switch still works for this page.
    }
  }, []);
  const value = useMemo(() => ({ lang, setLang, t: (zh: string, en: string) => (lang === 'zh' ? zh : en) }), [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useLang(): LangContext {
  return useContext(Ctx);
}
