// Runs test/native/llm_cuda_emu.cpp: the CUDA LLM model's host code against the CPU LlmModel, with
// the CUDA runtime and the device kernels emulated on the host (see that file), under
// AddressSanitizer and UBSan. The only check of that code on a machine without a GPU; skipped, with
// the reason, where no g++ is found.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildNativeProgram, ROOT } from './native-program';

const SOURCES = [
  'test/native/llm_cuda_emu.cpp',
  'native/backends/cuda/llm/cuda_llm_model.cpp',
  // Every CPU LLM source, so that one added there needs no change here.
  ...readdirSync(path.join(ROOT, 'native/kernels/cpu/llm')).filter((f) => f.endsWith('.cpp')).sort().map((f) => `native/kernels/cpu/llm/${f}`),
  ...['status', 'tensor', 'dtype', 'thread_pool', 'work_queue'].map((f) => `native/core/${f}.cpp`),
];
const gxx = spawnSync('g++', ['--version']).status === 0;
if (!gxx) console.log('test/native/llm-cuda-emu: skipped, g++ not found');

(gxx ? describe : describe.skip)('CUDA LLM host code with an emulated device', () => {
  it('matches the CPU model on every cache path, with typed errors and no leaks', () => {
    // The sanitized build takes about a minute on two cores; a rerun with unchanged sources reuses it.
    const exe = buildNativeProgram({ name: 'llm-cuda-emu', sources: SOURCES, includes: ['test/native/fake_cuda', 'native/include', 'native'], std: 'c++17' });
    const run = spawnSync(exe, [], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    const out = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) console.log(out);
    expect(out).toContain('llm_cuda_emu: all passed');
    expect(run.status).toBe(0);
  }, 600_000);
});
