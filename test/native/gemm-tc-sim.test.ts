// Runs test/native/gemm_tc_sim.cpp: the tensor-core GEMM kernel's device code on the host
// (test/native/cuda_sim), every tile and loader against a float64 reference and against each other,
// under AddressSanitizer and UBSan. Needs g++ and the CUDA headers (cuda_bf16.h), which nvcc's
// toolkit has; skipped, with the reason, without them.
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaInclude, cudaSimUnavailable, ROOT } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/gemm-tc-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('tensor-core GEMM kernel, device code run on the host', () => {
  it('matches the float64 reference on every tile and loader; vector and element loaders give the same bits', () => {
    const exe = buildNativeProgram({
      name: 'gemm-tc-sim',
      sources: ['test/native/gemm_tc_sim.cpp', 'native/core/status.cpp'],
      includes: ['test/native/cuda_sim', 'native/include', 'native'],
      systemIncludes: [cudaInclude()!],
      std: 'c++20',
      extraFlags: ['-Wno-unknown-pragmas'],
    });
    const run = spawnSync(exe, [], { cwd: ROOT, encoding: 'utf8' });
    const out = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) console.log(out);
    expect(out).toContain('gemm_tc_sim: all passed');
    expect(run.status).toBe(0);
  }, 600_000);
});
