// Runs test/native/elementwise_sim.cpp: the elementwise kernels of native/kernels/cuda/elementwise.cu
// and the fp32 -> fp16 / bf16 rounding of native/kernels/cuda/to_16bit.cu on the host
// (test/native/cuda_sim) against float64 and exact references, under AddressSanitizer and UBSan.
// Skipped, with the reason, without g++ or the CUDA headers.
import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaSimUnavailable, runNativeProgram } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/elementwise-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('elementwise kernels, device code run on the host', () => {
  it('unary, binary (flat, broadcast, transposed), compare, Where, Cast and the 16-bit rounding match their references', () => {
    const exe = buildNativeProgram({
      name: 'elementwise-sim',
      sources: ['test/native/elementwise_sim.cpp', 'native/core/status.cpp', 'native/core/dtype.cpp'],
      cudaSources: ['native/kernels/cuda/elementwise.cu', 'native/kernels/cuda/to_16bit.cu'],
      includes: ['test/native/cuda_sim', 'native/include', 'native'],
      std: 'c++20',
      extraFlags: ['-Wno-unknown-pragmas'],
    });
    const { status, out } = runNativeProgram(exe);
    expect(out).toContain('elementwise_sim: all passed');
    expect(status).toBe(0);
  }, 600_000);
});
