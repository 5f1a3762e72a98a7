import { existsSync, readFileSync } from 'node:fs';

import { defineConfig } from 'vitest/config';

// The GPU suites also run on the simulated device (test/native/cuda_sim: the addon with its CUDA
// backend and kernels running on the host). Where a real GPU is (an NVIDIA device node), they run on it
// instead, in the main project.
const simulate = process.env.HS_CUDA_SIM !== '0' && !existsSync('/dev/nvidiactl');

// The convolution and integer-matmul tests also run with the CPU kernels forced (HS_GEMM_KERNEL),
// since the kernel set picks the algorithm: for convolutions (conv.cpp) implicit GEMM with the
// portable kernels on every host, and the AVX2 direct convolution on AVX-512 hosts, which otherwise
// never take it; for the integer operators the float-GEMM split where there is no AVX2 int16 kernel.
const cpuFlags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const kernelChoiceTests = ['test/engine/conv-*.test.ts', 'test/engine/quantized.test.ts'];
const forcedKernels = [...(/\bavx512f\b/.test(cpuFlags) ? ['avx2'] : []), 'generic'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two test files at a time even on 2 cores (vitest's default there is one): most files wait on a
    // single-threaded g++ build, a simulated kernel or a socket, and leave the other core idle.
    maxWorkers: 2,
    execArgv: ['--expose-gc'],
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'] } },
      ...forcedKernels.map((kernels) => ({ extends: true as const, test: { name: `kernels-${kernels}`, include: kernelChoiceTests, env: { HS_GEMM_KERNEL: kernels } } })),
      ...(simulate
        // The simulated device runs kernels far slower than a GPU: a test gets 5 minutes, not 2.
        ? [{ extends: true as const, test: { name: 'cuda-sim', include: ['test/gpu/**/*.test.ts'], testTimeout: 300_000, globalSetup: ['test/native/cuda_sim/sim-addon-setup.ts'], setupFiles: ['test/native/cuda_sim/use-sim-addon.ts'] } }]
        : []),
    ],
  },
});
