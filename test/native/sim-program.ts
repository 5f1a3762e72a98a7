// The kernel programs of test/native that run CUDA device code on the host (cuda_sim): each test file
// builds one with this and expects its verdict. Kept apart from native-program.ts, which the
// cuda-sim project's global setup imports outside any test.
import { expect } from 'vitest';

import { buildNativeProgram, cudaInclude, runNativeProgram } from './native-program';

/**
 * Builds test/native/<program>.cpp, with the .cu files it runs on the host through cuda_sim, under the
 * sanitizers, and runs it with args: its exit status and output.
 */
export function runSimProgram(program: string, cudaSources: string[], extraSources: string[] = [], timeoutMs?: number, args: string[] = []): { status: number | null; out: string } {
  const exe = buildNativeProgram({
    name: program.replace(/_/g, '-'),
    sources: [`test/native/${program}.cpp`, 'native/core/status.cpp', ...extraSources],
    cudaSources,
    includes: ['test/native/cuda_sim', 'native/include', 'native'],
    systemIncludes: [cudaInclude()!],
    std: 'c++20',
    extraFlags: ['-Wno-unknown-pragmas'],
  });
  return runNativeProgram(exe, timeoutMs, args);
}

/** runSimProgram, expecting the verdict line `<program>: all passed` and exit status 0. */
export function expectSimProgramPasses(program: string, cudaSources: string[], extraSources: string[] = [], timeoutMs?: number, args: string[] = []): void {
  const { status, out } = runSimProgram(program, cudaSources, extraSources, timeoutMs, args);
  expect(out).toContain(`${program}: all passed`);
  expect(status).toBe(0);
}
