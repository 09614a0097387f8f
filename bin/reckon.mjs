#!/usr/bin/env node
// The `reckon` command. Runs the TypeScript sources through tsx's loader, so an install needs no
// separate build step and stack traces point at the real files.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/main.ts');
process.exitCode = await main(process.argv);
