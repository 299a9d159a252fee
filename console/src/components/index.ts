export { ErrorAlert } from './ErrorAlert';
export { Money } from './Money';
export { NoRows } from './NoRows';
export { PageTitle } from './PageTitle';
export { RuleChecks, ruleWords, type RuleCheck } from './RuleChecks';
export { StatusTag } from './StatusTag';
export { useLoad, type Loaded } from './useLoad';
export { VoucherLinks, voucherKindNames, type VoucherRef } from './VoucherLinks';
