// Runs test/native/movement_sim.cpp, reduce_sim.cpp and pool_sim.cpp: the data-movement, reduction
// and pooling kernels of native/kernels/cuda (movement.cu, reduce.cu, pool.cu) on the host
// (test/native/cuda_sim) against exact and float64 references, under AddressSanitizer and UBSan.
// Skipped, with the reason, without g++ or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/data-kernels-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('data-movement, reduction and pooling kernels, device code run on the host', () => {
  it('strided copy (rank 0..8, permuted, stepped, reversed, broadcast), float16/bfloat16 conversion and gather match exactly', () => expectSimProgramPasses('movement_sim', ['native/kernels/cuda/movement.cu'], ['native/core/dtype.cpp']), 600_000);
  it('every reduction over inner, outer, middle, scattered, permuted and broadcast axes matches float64', () => expectSimProgramPasses('reduce_sim', ['native/kernels/cuda/reduce.cu']), 600_000);
  it('max and average pooling with strides, pads, dilations, ceil-mode windows and count_include_pad match float64', () => expectSimProgramPasses('pool_sim', ['native/kernels/cuda/pool.cu']), 600_000);
});
