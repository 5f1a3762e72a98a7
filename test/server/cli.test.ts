// The CLI: `highservice serve <repo>` in a child process, loaded by `highservice bench <url>`;
// SIGTERM drains and exits.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { makeRepository } from './repo';

const main = path.join(__dirname, '../../lib/cli/main.js');
const repo = makeRepository({ mlp: { maxBatchSize: 8 } });
afterAll(() => repo.remove());

describe('highservice serve / bench <url>', () => {
  it('runs as `npx highservice` from a checkout, as the README starts (the bin is executable)', async () => {
    const { stdout } = await promisify(execFile)('npx', ['--no-install', 'highservice', '--help'], { cwd: path.join(__dirname, '../..'), timeout: 20_000 });
    expect(stdout).toMatch(/Usage: highservice/);
    expect(stdout).toMatch(/serve/);
  });

  it('serves a repository and reports throughput, p50/p99 and errors under load', async () => {
    const server = spawn(process.execPath, [main, 'serve', repo.root, '--port', '0', '--max-delay', '1', '--no-cache'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => {
          const m = /on (http:\/\/\S+)/.exec(chunk.toString());
          if (m) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}`)));
      });
      const { stdout } = await promisify(execFile)(process.execPath, [main, 'bench', url, '--concurrency', '1,4', '--time', '300'], { timeout: 20_000 });
      const rows = stdout.split('\n').filter((l) => l.startsWith('| mlp |'));
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const [, , concurrency, requests, errors] = row.split('|').map((c) => c.trim());
        expect(Number(concurrency)).toBeGreaterThan(0);
        expect(Number(requests)).toBeGreaterThan(0);
        expect(Number(errors)).toBe(0);
      }
    } finally {
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
