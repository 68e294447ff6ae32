#!/usr/bin/env node
// Runs the compiled CLI (built by `npm install` through the "prepare" script, or `npm run build`).
require('../dist/src/main.js');
