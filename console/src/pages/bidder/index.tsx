import type { ConsolePage } from '../types';
import { BidderDeposit, BidderDeposits } from './Deposits';
import { BidderGuarantee, BidderGuarantees } from './Guarantees';
import { BidderRefund, BidderRefunds } from './Refunds';
import { BidderSection } from './Section';
import { BidderSections } from './Sections';

/** A bidder's pages: its sections and sub-accounts, deposits, guarantees, refunds, vouchers. */
export const bidderPages: ConsolePage[] = [
  { path: 'sections', title: ['我的标段', 'My sections'], element: <BidderSections /> },
  { path: 'sections/:id', title: ['标段', 'Section'], element: <BidderSection />, menu: false },
  { path: 'deposits', title: ['我的保证金', 'My deposits'], element: <BidderDeposits /> },
  { path: 'deposits/:id', title: ['保证金详情', 'Deposit'], element: <BidderDeposit />, menu: false },
  { path: 'guarantees', title: ['我的保函', 'My guarantees'], element: <BidderGuarantees /> },
  { path: 'guarantees/:id', title: ['保函详情', 'Guarantee'], element: <BidderGuarantee />, menu: false },
  { path: 'refunds', title: ['我的退款', 'My refunds'], element: <BidderRefunds /> },
  { path: 'refunds/:id', title: ['退款详情', 'Refund'], element: <BidderRefund />, menu: false },
];
