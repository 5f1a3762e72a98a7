// `highservice serve <llm dir> --draft-model <dir> [--num-speculative-tokens N]` in a child
// process: completions come back with the tokens of plain decoding, /metrics counts the drafts
// (every one accepted when the draft is the target itself), and bad flag combinations exit with
// ERR_INVALID_ARGUMENT; `--matmul-precision bf16` serves the engine's bf16 tokens.
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

/** Runs `highservice serve <model> --port 0 ...flags` until `use` is done with its banner and URL. */
async function withServer(flags: string[], use: (banner: string, url: string) => Promise<void>): Promise<void> {
  const server = spawn(process.execPath, [main, 'serve', model.dir, '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
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
    await use(banner, url);
  } finally {
    server.kill('SIGTERM');
    await exited;
  }
}

/** The text of a greedy 12-token completion of PROMPT from the server at `url`. */
async function greedyText(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: path.basename(model.dir), prompt: PROMPT, max_tokens: 12, temperature: 0, ignore_eos: true }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: { text: string }[]; usage: { completion_tokens: number } };
  expect(body.usage.completion_tokens).toBe(12);
  return body.choices[0].text;
}

describe('highservice serve <llm dir> --draft-model', () => {
  it('serves with the draft model: the greedy tokens of plain decoding, drafts counted in /metrics', async () => {
    await withServer(['--draft-model', model.dir, '--num-speculative-tokens', '3'], async (banner, url) => {
      expect(banner).toContain('3 tokens per step');
      expect(await greedyText(url)).toBe(expectedText);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(value('hs_llm_spec_draft_tokens_total')).toBeGreaterThan(0);
      expect(value('hs_llm_spec_accepted_tokens_total')).toBe(value('hs_llm_spec_draft_tokens_total'));
    });
  });

  it('rejects --num-speculative-tokens without --draft-model, a bad count, and a draft that is not a model directory', async () => {
    expect(await cliError([model.dir, '--port', '0', '--num-speculative-tokens', '3'])).toContain('--num-speculative-tokens needs --draft-model');
    expect(await cliError([model.dir, '--port', '0', '--draft-model', model.dir, '--num-speculative-tokens', '0'])).toContain('ERR_INVALID_ARGUMENT');
    expect(await cliError([model.dir, '--port', '0', '--draft-model', path.join(model.dir, 'nope')])).toContain('--draft-model must be a Hugging Face model directory');
  });
});

describe('highservice serve <llm dir> --matmul-precision', () => {
  it('bf16 serves the tokens of a bf16 engine', async () => {
    const engine = await llm.startLlmEngine(model.dir, { threads: 2, matmulPrecision: 'bf16' });
    const bf16Text = (await engine.complete(PROMPT, { temperature: 0, maxTokens: 12, ignoreEos: true })).text;
    engine.dispose();
    await withServer(['--matmul-precision', 'bf16'], async (banner, url) => {
      expect(banner).toContain('bf16 projections');
      expect(await greedyText(url)).toBe(bf16Text);
    });
  });

  it('rejects other precisions, and the flag for a model repository', async () => {
    expect(await cliError([model.dir, '--port', '0', '--matmul-precision', 'fp16'])).toContain("--matmul-precision must be 'fp32' or 'bf16'");
    expect(await cliError([path.dirname(model.dir), '--port', '0', '--matmul-precision', 'bf16'])).toContain('apply to an LLM directory');
  });
});


describe('highservice serve <llm dir> --generation-config', () => {
  it('rejects modes other than auto and none, the flag for a model repository, and repository flags for an LLM', async () => {
    expect(await cliError([model.dir, '--port', '0', '--generation-config', 'vllm'])).toContain('--generation-config must be auto or none');
    expect(await cliError([path.dirname(model.dir), '--port', '0', '--generation-config', 'none'])).toContain('apply to an LLM directory');
    expect(await cliError([model.dir, '--port', '0', '--max-batch', '4', '--workers', '2'])).toContain('--workers, --max-batch apply to a model repository');
    expect(await cliError([model.dir, '--port', '0', '--stored-responses', '-1'])).toContain('--stored-responses must be an integer >= 0');
    expect(await cliError([path.dirname(model.dir), '--port', '0', '--stored-responses', '5'])).toContain('apply to an LLM directory');
  });
});
