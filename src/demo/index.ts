// The end-to-end demo (issue 8, item 4): `bidbond demo`, `bidbond start --demo`, and the test.
export { addDemoCommand, runDemoCommand } from './cli';
export { runDemo, runDemoAgainst, demoExecutorTiming, type DemoOptions, type DemoTarget } from './run';
export type { DemoSummary } from './report';
