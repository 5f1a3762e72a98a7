// Runs test/native/elementwise_sim.cpp: the elementwise kernels of native/kernels/cuda/elementwise.cu
// (its 16-bit float casts go through movement.cu's converting copy) and the fp32 -> fp16 / bf16
// rounding of native/kernels/cuda/to_16bit.cu on the host
// (test/native/cuda_sim) against float64 and exact references, under AddressSanitizer and UBSan.
// Skipped, with the reason, without g++ or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/elementwise-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('elementwise kernels, device code run on the host', () => {
  it('unary, binary (flat, broadcast, transposed), compare, Where, Cast and the 16-bit rounding match their references', () => expectSimProgramPasses('elementwise_sim', ['native/kernels/cuda/elementwise.cu', 'native/kernels/cuda/movement.cu', 'native/kernels/cuda/to_16bit.cu'], ['native/core/dtype.cpp']), 600_000);
});
