import type { ReactNode } from 'react';

/** One page of the console for a role: its path under /console/, its title in both languages,
 *  and whether the side menu lists it (detail pages are reached from lists). */
export interface ConsolePage {
  path: string;
  title: readonly [zh: string, en: string];
  element: ReactNode;
  menu?: boolean;
}
