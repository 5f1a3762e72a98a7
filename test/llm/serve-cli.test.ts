// `highservice serve <llm dir> --draft-model <dir> [--num-speculative-tokens N]` in a child
// process: completions come back with the tokens of plain decoding, /metrics counts the drafts
// (every one accepted when the draft is the target itself), and bad flag combinations exit with
// ERR_INVALID_ARGUMENT.
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeTinyModel, type TinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

const main = path.join(__dirname, '../../lib/cli/main.js');
const PROMPT = [5, 17, 200, 31, 99, 250, 3];

let model: TinyModel;
let expectedText: string;

beforeAll(async () => {
  model = writeTinyModel({ arch: 'qwen2', seed: 12 });
  const plain = await llm.startLlmEngine(model.dir, { threads: 2 });
  expectedText = (await plain.complete(PROMPT, { temperature: 0, maxTokens: 12, ignoreEos: true })).text;
  plain.dispose();
});
afterAll(() => rmSync(model.dir, { recursive: true, force: true }));

async function cliError(args: string[]): Promise<string> {
  const run = promisify(execFile)(process.execPath, [main, 'serve', ...args], { timeout: 20_000 });
  const err = (await run.then(() => null, (e: { code?: number; stderr?: string }) => e))!;
  expect(err).not.toBeNull();
  expect(err.code).toBe(1);
  return err.stderr ?? '';
}

describe('highservice serve <llm dir> --draft-model', () => {
  it('serves with the draft model: the greedy tokens of plain decoding, drafts counted in /metrics', async () => {
    const args = [main, 'serve', model.dir, '--port', '0', '--draft-model', model.dir, '--num-speculative-tokens', '3'];
    const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      let banner = '';
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => {
          banner += chunk.toString();
          const m = /on (http:\/\/\S+)/.exec(banner);
          if (m) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}`)));
      });
      expect(banner).toContain('3 tokens per step');
      const res = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: path.basename(model.dir), prompt: PROMPT, max_tokens: 12, temperature: 0, ignore_eos: true }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: { text: string }[]; usage: { completion_tokens: number } };
      expect(body.usage.completion_tokens).toBe(12);
      expect(body.choices[0].text).toBe(expectedText);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(value('hs_llm_spec_draft_tokens_total')).toBeGreaterThan(0);
      expect(value('hs_llm_spec_accepted_tokens_total')).toBe(value('hs_llm_spec_draft_tokens_total'));
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('rejects --num-speculative-tokens without --draft-model, a bad count, and a draft that is not a model directory', async () => {
    expect(await cliError([model.dir, '--port', '0', '--num-speculative-tokens', '3'])).toContain('--num-speculative-tokens needs --draft-model');
    expect(await cliError([model.dir, '--port', '0', '--draft-model', model.dir, '--num-speculative-tokens', '0'])).toContain('ERR_INVALID_ARGUMENT');
    expect(await cliError([model.dir, '--port', '0', '--draft-model', path.join(model.dir, 'nope')])).toContain('--draft-model must be a Hugging Face model directory');
  });
});

