import type { Role } from '../session';
import { bidderPages } from './bidder';
import { centrePages } from './centre';
import { tendereePages } from './tenderee';
import type { ConsolePage } from './types';

export function pagesFor(role: Role): ConsolePage[] {
  switch (role) {
    case 'centre':
    case 'auditor':
      return centrePages;
    case 'bidder':
      return bidderPages;
    case 'tenderee':
      return tendereePages;
  }
}

export function roleName(role: Role, t: (zh: string, en: string) => string): string {
  switch (role) {
    case 'centre':
      return t('交易中心', 'Trading centre');
    case 'auditor':
      return t('审计（只读）', 'Auditor (read-only)');
    case 'bidder':
      return t('投标人', 'Bidder');
    case 'tenderee':
      return t('招标人', 'Tenderee');
  }
}
