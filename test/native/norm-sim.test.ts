// Runs test/native/norm_sim.cpp: the normalisation kernels of native/kernels/cuda/norm.cu on the host
// (test/native/cuda_sim) against float64 references, under AddressSanitizer and UBSan. Skipped, with
// the reason, without g++ or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/norm-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('normalisation kernels, device code run on the host', () => {
  it('layer norm, batch norm and softmax (rows with scale and mask, strided axis) match float64', () => expectSimProgramPasses('norm_sim', ['native/kernels/cuda/norm.cu']), 600_000);
});
