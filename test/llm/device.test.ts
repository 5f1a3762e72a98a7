// Device selection of the LLM engine: the default is the CPU; 'auto' takes CUDA only where the
// addon reports a usable device; 'cuda' without one rejects with ERR_CUDA_UNAVAILABLE carrying the
// addon's reason (from TypeScript, from the native loader called directly, and from the CLI); the
// device shows in the model's info and in /v1/models. The CUDA forward itself is test/gpu/llm-cuda.test.ts.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadNativeLlm } from '../../lib/llm/native';
import { readCheckpointTensors } from '../../lib/llm/safetensors';
import { nativeConfig, readModelConfig } from '../../lib/llm/config';
import { writeTinyModel, type TinyModel } from '../fixtures/hf-model';
import { hs } from '../helpers';
import { llm } from './helpers';

const cuda = hs.devices().cuda;
const main = path.join(__dirname, '../../lib/cli/main.js');
let model: TinyModel;

beforeAll(() => {
  model = writeTinyModel({ arch: 'llama', seed: 4 });
});
afterAll(() => rmSync(model.dir, { recursive: true, force: true }));

describe('LLM device selection', () => {
  it('runs on the CPU by default and says so in info and /v1/models', async () => {
    const server = await llm.serveLlm({ dir: model.dir, port: 0, numBlocks: 8, blockSize: 4, threads: 1 });
    try {
      expect(server.engine.model.info).toMatchObject({ device: 'cpu', deviceName: null, kvCacheType: 'float32' });
      const res = await fetch(`${server.url}/v1/models`);
      const body = (await res.json()) as { data: { device: string }[] };
      expect(body.data[0].device).toBe('cpu');
    } finally {
      await server.close();
    }
  });

  it("'auto' picks CUDA exactly when the addon reports a usable device", async () => {
    const engine = await llm.startLlmEngine(model.dir, { device: 'auto', numBlocks: 8, blockSize: 4, threads: 1 });
    try {
      expect(engine.model.info.device).toBe(cuda.available ? 'cuda' : 'cpu');
      expect((await engine.complete([1, 2, 3], { temperature: 0, maxTokens: 3, ignoreEos: true })).tokenIds).toHaveLength(3);
    } finally {
      engine.dispose();
    }
  });

  it('rejects an unknown device with ERR_INVALID_ARGUMENT', async () => {
    await expect(llm.startLlmEngine(model.dir, { device: 'tpu' as 'cpu', numBlocks: 8 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  (cuda.available ? it.skip : it)("'cuda' without a usable device rejects with ERR_CUDA_UNAVAILABLE and the addon's reason", async () => {
    expect(cuda.reason).toBeTruthy();
    await expect(llm.startLlmEngine(model.dir, { device: 'cuda', numBlocks: 8 })).rejects.toMatchObject({
      code: 'ERR_CUDA_UNAVAILABLE', message: expect.stringContaining(cuda.reason!),
    });
    // The native loader checks too, whatever the TypeScript layer decided.
    const config = await readModelConfig(model.dir);
    await expect(loadNativeLlm(nativeConfig(config), await readCheckpointTensors(model.dir), { device: 'cuda', numBlocks: 8, blockSize: 4 }))
      .rejects.toMatchObject({ code: 'ERR_CUDA_UNAVAILABLE' });
    expect(hs.devices().memory).toMatchObject({ deviceBytes: 0, pinnedBytes: 0 });
  });

  (cuda.available ? it.skip : it)('`highservice serve <llm dir> --device cuda` exits with ERR_CUDA_UNAVAILABLE', async () => {
    const err = await promisify(execFile)(process.execPath, [main, 'serve', model.dir, '--port', '0', '--device', 'cuda'], { timeout: 30_000 })
      .then(() => null, (e: { code?: number; stderr?: string }) => e);
    expect(err).not.toBeNull();
    expect(err!.code).toBe(1);
    expect(err!.stderr).toContain('ERR_CUDA_UNAVAILABLE');
  });

  it('`--device` is rejected for a model repository and must name a device for an LLM', async () => {
    const run = (args: string[]) => promisify(execFile)(process.execPath, [main, ...args], { timeout: 30_000 })
      .then(() => null, (e: { code?: number; stderr?: string }) => e);
    const bad = await run(['serve', model.dir, '--port', '0', '--device', 'gpu']);
    expect(bad?.stderr).toMatch(/ERR_INVALID_ARGUMENT: --device must be/);
    const bench = await run(['bench', 'llm', model.dir, '--device', 'gpu']);
    expect(bench?.stderr).toMatch(/ERR_INVALID_ARGUMENT: --device must be/);
    const repo = await run(['serve', path.join(__dirname, '../../examples/models'), '--port', '0', '--device', 'cuda']);
    expect(repo?.stderr).toMatch(/ERR_INVALID_ARGUMENT: .*--device.* apply to an LLM directory/);
  });
});
