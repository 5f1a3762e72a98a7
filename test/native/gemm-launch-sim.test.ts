// Runs test/native/gemm_launch_sim.cpp: the GEMM and convolution launchers of native/kernels/cuda/gemm.cu
// and gemm_tc.cu (every kernel, both MMA types) on the host (test/native/cuda_sim) against float64
// references, under AddressSanitizer and UBSan. Skipped, with the reason, without g++ or the CUDA headers.
import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaSimUnavailable, runNativeProgram } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/gemm-launch-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('GEMM and convolution launchers, device code run on the host', () => {
  it('gemm, conv2d and their detail launchers match float64 on every kernel; bad arguments give their Status', () => {
    const exe = buildNativeProgram({
      name: 'gemm-launch-sim',
      sources: ['test/native/gemm_launch_sim.cpp', 'native/core/status.cpp'],
      cudaSources: ['native/kernels/cuda/gemm.cu', 'native/kernels/cuda/gemm_tc.cu'],
      includes: ['test/native/cuda_sim', 'native/include', 'native'],
      std: 'c++20',
      extraFlags: ['-Wno-unknown-pragmas'],
    });
    const { status, out } = runNativeProgram(exe);
    expect(out).toContain('gemm_launch_sim: all passed');
    expect(status).toBe(0);
  }, 600_000);
});
