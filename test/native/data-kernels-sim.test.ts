// Runs test/native/movement_sim.cpp, reduce_sim.cpp and pool_sim.cpp: the data-movement, reduction
// and pooling kernels of native/kernels/cuda (movement.cu, reduce.cu, pool.cu) on the host
// (test/native/cuda_sim) against exact and float64 references, under AddressSanitizer and UBSan.
// Skipped, with the reason, without g++ or the CUDA headers.
import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaSimUnavailable, runNativeProgram } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/data-kernels-sim: skipped, ${reason}`);

function buildAndRun(name: string, program: string, kernel: string, extraSources: string[] = []): void {
  const exe = buildNativeProgram({
    name,
    sources: [`test/native/${program}.cpp`, 'native/core/status.cpp', ...extraSources],
    cudaSources: [`native/kernels/cuda/${kernel}.cu`],
    includes: ['test/native/cuda_sim', 'native/include', 'native'],
    std: 'c++20',
    extraFlags: ['-Wno-unknown-pragmas'],
  });
  const { status, out } = runNativeProgram(exe);
  expect(out).toContain(`${program}: all passed`);
  expect(status).toBe(0);
}

(reason ? describe.skip : describe)('data-movement, reduction and pooling kernels, device code run on the host', () => {
  it('strided copy (rank 0..8, permuted, stepped, reversed, broadcast), float16/bfloat16 conversion and gather match exactly', () => {
    buildAndRun('movement-sim', 'movement_sim', 'movement', ['native/core/dtype.cpp']);
  }, 600_000);

  it('every reduction over inner, outer, middle, scattered, permuted and broadcast axes matches float64', () => {
    buildAndRun('reduce-sim', 'reduce_sim', 'reduce');
  }, 600_000);

  it('max and average pooling with strides, pads, dilations, ceil-mode windows and count_include_pad match float64', () => {
    buildAndRun('pool-sim', 'pool_sim', 'pool');
  }, 600_000);
});
