// Forward steps run on the model's own thread, not libuv's pool: with that pool taken by slow jobs,
// a generation still streams to its end. A step in flight keeps the process alive; an idle model
// does not.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { writeTinyModel } from '../fixtures/hf-model';
import { occupyLibuvPool } from '../helpers';
import { llm, PROMPTS } from './helpers';

describe('LLM step dispatch', () => {
  const model = writeTinyModel({ arch: 'llama', seed: 5 });
  afterAll(() => rmSync(model.dir, { recursive: true, force: true }));

  it('generates while every libuv pool thread is busy', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, threads: 1 });
    const pool = occupyLibuvPool(1500);
    const tokens: number[] = [];
    for await (const chunk of engine.generate(PROMPTS[0], { temperature: 0, maxTokens: 16, ignoreEos: true })) tokens.push(chunk.tokenId);
    expect(pool.ended()).toBe(0);
    expect(tokens).toHaveLength(16);
    await pool.done;
    engine.dispose();
  });

  it('keeps the process alive while a step is in flight, and lets it exit when idle', () => {
    // Nothing but the generation holds the event loop once the model has loaded; it is never disposed.
    const script = `
      const { startLlmEngine } = require(${JSON.stringify(path.resolve('lib/llm/index.js'))});
      startLlmEngine(${JSON.stringify(model.dir)}, { numBlocks: 64, blockSize: 4, threads: 1 }).then(async (engine) => {
        let n = 0;
        for await (const chunk of engine.generate(${JSON.stringify(PROMPTS[0])}, { temperature: 0, maxTokens: 8, ignoreEos: true })) n++;
        console.log('tokens', n);
      });`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.signal, 'the process did not exit by itself').toBeNull();
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('tokens 8');
    expect(child.status).toBe(0);
  });
});
