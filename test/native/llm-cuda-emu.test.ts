// Runs test/native/llm_cuda_emu.cpp: the CUDA LLM model's host code against the CPU LlmModel, with
// the CUDA runtime and the device kernels emulated on the host (see that file), under
// AddressSanitizer and UBSan. The only check of that code on a machine without a GPU; skipped, with
// the reason, where no g++ is found.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = [
  'test/native/llm_cuda_emu.cpp',
  'native/backends/cuda/llm/cuda_llm_model.cpp',
  // Every CPU LLM source, so that one added there needs no change here.
  ...readdirSync(path.join(ROOT, 'native/kernels/cpu/llm')).filter((f) => f.endsWith('.cpp')).sort().map((f) => `native/kernels/cpu/llm/${f}`),
  ...['status', 'tensor', 'dtype', 'thread_pool'].map((f) => `native/core/${f}.cpp`),
];
const HEADER_DIRS = ['native', 'test/native'];
const gxx = spawnSync('g++', ['--version']).status === 0;

/** Every source and header the program is built from, hashed: the build is reused while none changes. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  const headers = HEADER_DIRS.flatMap((d) => (readdirSync(path.join(ROOT, d), { recursive: true }) as string[])
    .filter((f) => /\.(h|cuh)$/.test(f)).map((f) => path.join(d, f))).sort();
  for (const f of [...SOURCES, ...headers]) hash.update(f).update(readFileSync(path.join(ROOT, f)));
  return hash.digest('hex').slice(0, 16);
}
if (!gxx) console.log('test/native/llm-cuda-emu: skipped, g++ not found');

(gxx ? describe : describe.skip)('CUDA LLM host code with an emulated device', () => {
  it('matches the CPU model on every cache path, with typed errors and no leaks', () => {
    // The sanitized build takes about a minute on two cores; a rerun with unchanged sources reuses it.
    const exe = path.join(os.tmpdir(), `hs-llm-cuda-emu-${sourcesHash()}`);
    if (!existsSync(exe)) {
      execFileSync('g++', ['-std=c++17', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-Wall', '-Wextra', '-Werror',
        '-Itest/native/fake_cuda', '-Inative/include', '-Inative', ...SOURCES, '-lpthread', '-o', `${exe}.${process.pid}`], { cwd: ROOT, stdio: 'pipe' });
      renameSync(`${exe}.${process.pid}`, exe);
    }
    const run = spawnSync(exe, [], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    const out = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) console.log(out);
    expect(out).toContain('llm_cuda_emu: all passed');
    expect(run.status).toBe(0);
  }, 600_000);
});
