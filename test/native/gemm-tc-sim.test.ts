// Runs test/native/gemm_tc_sim.cpp: the tensor-core GEMM kernel's device code on the host
// (test/native/cuda_sim), every tile and loader against a float64 reference and against each other,
// under AddressSanitizer and UBSan. Needs g++ and the CUDA headers (cuda_bf16.h), which nvcc's
// toolkit has; skipped, with the reason, without them.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/gemm-tc-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('tensor-core GEMM kernel, device code run on the host', () => {
  it('matches the float64 reference on every tile and loader; vector and element loaders give the same bits', () => expectSimProgramPasses('gemm_tc_sim', []), 600_000);
});
