import type { ConsolePage } from '../types';
import { TendereeSection, TendereeSections } from './Sections';

/** A tenderee's pages: its sections; bidders only after the opening (R18). */
export const tendereePages: ConsolePage[] = [
  { path: 'sections', title: ['我的项目', 'My sections'], element: <TendereeSections /> },
  { path: 'sections/:id', title: ['标段', 'Section'], element: <TendereeSection />, menu: false },
];
