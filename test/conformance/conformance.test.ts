// The ONNX operator conformance cases of the operator set, through the Engine; prints the
// pass count per operator. onnxruntime-node 1.30 passes 618 of these cases: we must pass as many.
// The operators we run beyond that set (EXTRA_OPERATORS) must pass all of theirs.
import { describe, expect, it } from 'vitest';

import { Engine } from '../../lib/index';
// @ts-expect-error: plain ESM helper shared with the CLI runner
import { DIVERGENT_CASES, listCases, runCase } from './conformance.mjs';

type Case = { name: string; op: string | null; inSet: boolean; extra: boolean };

describe('ONNX conformance', () => {
  it('passes at least as many cases as onnxruntime-node', async () => {
    const cases = (listCases() as Case[]).filter((c) => c.inSet);
    const byOp = new Map<string, { pass: number; total: number; failures: string[] }>();
    let passed = 0;
    for (const c of cases) {
      const r = (await runCase(Engine, c)) as { ok: boolean; error: string | null };
      const s = byOp.get(c.op!) ?? { pass: 0, total: 0, failures: [] };
      s.total++;
      if (r.ok) { s.pass++; passed++; } else s.failures.push(`${c.name}: ${r.error}`);
      byOp.set(c.op!, s);
    }
    const lines = [...byOp].sort().map(([op, s]) => `${s.pass === s.total ? ' ' : '!'} ${op} ${s.pass}/${s.total}`);
    console.log(`conformance: ${passed}/${cases.length} cases\n${lines.join('\n')}`);
    const failures = [...byOp.values()].flatMap((s) => s.failures);
    if (failures.length) console.log(`failures:\n${failures.join('\n')}`);
    expect(cases.length).toBeGreaterThan(600);
    expect(passed).toBeGreaterThanOrEqual(618);
  }, 600_000);

  it('passes every case of the operators beyond that set (quantisation and others)', async () => {
    const cases = (listCases() as Case[]).filter((c) => c.extra && !(c.name in DIVERGENT_CASES));
    const failures: string[] = [];
    for (const c of cases) {
      const r = (await runCase(Engine, c)) as { ok: boolean; error: string | null };
      if (!r.ok) failures.push(`${c.name}: ${r.error}`);
    }
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(failures).toEqual([]);
  }, 120_000);
});
