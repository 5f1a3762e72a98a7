// Runs test/native/cuda_sim_self.cpp: the simulation that the *-sim tests and the cuda-sim project
// stand on keeps CUDA's rules (barriers, shuffle sources, returned threads), exposes a read that no
// barrier orders, and aborts with its reason where the device would hang or be undefined.
import { describe, expect, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses, runSimProgram } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/cuda-sim-self: skipped, ${reason}`);

const kernels = ['test/native/cuda_sim_self_kernels.cu'];

(reason ? describe.skip : describe)('cuda_sim, the host simulation of CUDA device code', () => {
  it('orders shared memory at barriers, exposes unordered reads, takes CUDA shuffle sources, lets returned threads go', () =>
    expectSimProgramPasses('cuda_sim_self', kernels), 600_000);

  it('aborts on a deadlock (threads at barriers the others never reach) instead of hanging', () => {
    const { status, out } = runSimProgram('cuda_sim_self', kernels, [], 60_000, ['deadlock']);
    expect(status).not.toBe(0);
    expect(out).toContain('cuda_sim: deadlock');
  }, 600_000);

  it('aborts on a shuffle from a lane that has returned', () => {
    const { status, out } = runSimProgram('cuda_sim_self', kernels, [], 60_000, ['returned-lane']);
    expect(status).not.toBe(0);
    expect(out).toContain('cuda_sim: a shuffle reads a lane that has returned');
  }, 600_000);
});
