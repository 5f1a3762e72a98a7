// Runs test/native/gemm_launch_sim.cpp: the GEMM and convolution launchers of native/kernels/cuda/gemm.cu
// and gemm_tc.cu (every kernel, both MMA types) on the host (test/native/cuda_sim) against float64
// references, under AddressSanitizer and UBSan. Skipped, with the reason, without g++ or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/gemm-launch-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('GEMM and convolution launchers, device code run on the host', () => {
  it('gemm, conv2d and their detail launchers match float64 on every kernel; bad arguments give their Status', () => expectSimProgramPasses('gemm_launch_sim', ['native/kernels/cuda/gemm.cu', 'native/kernels/cuda/gemm_tc.cu']), 600_000);
});
