#!/usr/bin/env node
// Entry point of the `cairn` command: runs the compiled CLI (built by `npm run build`, which `npm install` runs).
import '../dist/cli/run.js';
