#!/usr/bin/env node
// node test/conformance/run.mjs [--op Name] [--case regex] [--all] [--verbose]
// Runs the ONNX conformance cases of the operator set (every case with --all) through lib/ (build it
// with `npx tsc`) and the addon (HS_ADDON_PATH to pick a build), printing failures and a summary.
import { createRequire } from 'node:module';
import { listCases, runCase } from './conformance.mjs';

const require = createRequire(import.meta.url);
const { Engine } = require('../../lib/index.js');
const args = process.argv.slice(2);
const opt = (k) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
const op = opt('--op');
const caseRe = opt('--case') ? new RegExp(opt('--case')) : null;
const verbose = args.includes('--verbose');

let cases = listCases().filter((c) => args.includes('--all') || c.inSet);
if (op) cases = cases.filter((c) => c.ops.includes(op));
if (caseRe) cases = cases.filter((c) => caseRe.test(c.name));
const byOp = new Map();
let passed = 0;
for (const c of cases) {
  const r = await runCase(Engine, c);
  const key = c.op ?? `(multi) ${c.ops.join('+')}`.slice(0, 60);
  const s = byOp.get(key) ?? { pass: 0, total: 0 };
  s.total++;
  if (r.ok) { s.pass++; passed++; }
  byOp.set(key, s);
  if (!r.ok || verbose) console.log(`${r.ok ? 'PASS' : 'FAIL'} ${c.name}${r.ok ? '' : `: ${r.error}`}`);
}
console.log('\nper operator (pass/total):');
for (const [k, s] of [...byOp].sort()) console.log(`  ${s.pass === s.total ? ' ' : '!'} ${k}: ${s.pass}/${s.total}`);
console.log(`\n${passed}/${cases.length} cases passed`);
