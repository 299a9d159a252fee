export * from './accounts';
export * from './journal';
