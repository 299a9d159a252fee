import type { ConsolePage } from '../types';
import { AuditLog } from './Audit';
import { BankExceptionDetail, BankExceptionList } from './BankExceptions';
import { Dashboard } from './Dashboard';
import { GuaranteeDetail, GuaranteeList } from './Guarantees';
import { DepositDetail, SuspenseList } from './Deposits';
import { ReconciliationDetail } from './ReconciliationDetail';
import { ReconciliationList } from './Reconciliations';
import { RefundDetail, RefundList } from './Refunds';
import { Registry } from './Registry';
import { SectionDetail, SectionList } from './Sections';

/** The trading centre's pages; the auditor sees the same pages read-only (every decision form
 *  and action is hidden for it, and the API refuses them anyway). */
export const centrePages: ConsolePage[] = [
  { path: 'dashboard', title: ['工作台', 'Dashboard'], element: <Dashboard /> },
  { path: 'refunds', title: ['退款', 'Refunds'], element: <RefundList /> },
  { path: 'refunds/:id', title: ['退款', 'Refund'], element: <RefundDetail />, menu: false },
  { path: 'reconciliations', title: ['对账', 'Reconciliations'], element: <ReconciliationList /> },
  { path: 'reconciliations/:id', title: ['对账', 'Reconciliation'], element: <ReconciliationDetail />, menu: false },
  { path: 'sections', title: ['标段', 'Sections'], element: <SectionList /> },
  { path: 'sections/:id', title: ['标段', 'Section'], element: <SectionDetail />, menu: false },
  { path: 'guarantees', title: ['电子保函', 'Guarantees'], element: <GuaranteeList /> },
  { path: 'guarantees/:id', title: ['电子保函', 'Guarantee'], element: <GuaranteeDetail />, menu: false },
  { path: 'deposits/:id', title: ['保证金', 'Deposit'], element: <DepositDetail />, menu: false },
  { path: 'suspense', title: ['待查款项', 'Suspense credits'], element: <SuspenseList /> },
  { path: 'bank-exceptions', title: ['银行异常', 'Bank exceptions'], element: <BankExceptionList /> },
  { path: 'bank-exceptions/:id', title: ['银行异常', 'Bank exception'], element: <BankExceptionDetail />, menu: false },
  { path: 'registry', title: ['登记信息', 'Registry'], element: <Registry /> },
  { path: 'audit', title: ['审计日志', 'Audit log'], element: <AuditLog /> },
];
