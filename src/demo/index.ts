// The end-to-end demo: `bidbond demo`, `bidbond start --demo`, and the test.
export { runDemo, runDemoAgainst, demoTiming, type DemoOptions, type DemoTarget } from './run';
export type { DemoSummary } from './report';
