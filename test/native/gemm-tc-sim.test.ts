// Runs test/native/gemm_tc_sim.cpp: the tensor-core GEMM kernel's device code on the host
// (test/native/cuda_sim), every tile and loader against a float64 reference and against each other,
// under AddressSanitizer and UBSan. Needs g++ and the CUDA headers (cuda_bf16.h), which nvcc's
// toolkit has; skipped, with the reason, without them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildNativeProgram, ROOT } from './native-program';

function cudaInclude(): string | null {
  const nvcc = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' }).stdout.trim();
  const candidates = [process.env.CUDA_HOME && path.join(process.env.CUDA_HOME, 'include'), nvcc && path.join(path.dirname(nvcc), '../include'), '/usr/local/cuda/include'];
  return candidates.find((d): d is string => Boolean(d) && existsSync(path.join(d as string, 'cuda_bf16.h'))) ?? null;
}

const include = cudaInclude();
const gxx = spawnSync('g++', ['--version']).status === 0;
const reason = !gxx ? 'g++ not found' : !include ? 'no CUDA headers (cuda_bf16.h) found' : null;
if (reason) console.log(`test/native/gemm-tc-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('tensor-core GEMM kernel, device code run on the host', () => {
  it('matches the float64 reference on every tile and loader; vector and element loaders give the same bits', () => {
    const exe = buildNativeProgram({
      name: 'gemm-tc-sim',
      sources: ['test/native/gemm_tc_sim.cpp', 'native/core/status.cpp'],
      includes: ['test/native/cuda_sim', 'native/include', 'native'],
      systemIncludes: [include!],
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
