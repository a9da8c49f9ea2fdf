#!/usr/bin/env node
// Runs the CLI in this process (so signals reach the node directly): the compiled build when
// `npm run build` has made one, otherwise the TypeScript sources through tsx's loader.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
