#!/usr/bin/env node
// The operator's command. TypeScript sources run through tsx's CommonJS hook, so a fresh
// clone needs no build step.
require('tsx/cjs');
require('../src/cli/main.ts');
