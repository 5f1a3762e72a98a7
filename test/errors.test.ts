// The error registry (ts/errors.ts) is the one place codes are declared: every code is documented
// (a message and an HTTP status), every code the serving layers throw or answer with is in it, and
// the HTTP layer maps anything else (fastify's own errors included) onto a registry code.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { hs } from './helpers';

const SERVING_SOURCES = ['ts/server', 'ts/process', 'ts/batching', 'ts/metrics', 'ts/cli/serve.ts', 'ts/cli/bench-http.ts'];

function sources(dir: string): string[] {
  const abs = path.join(__dirname, '..', dir);
  if (abs.endsWith('.ts')) return [abs];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(abs, e.name)] : []);
}

describe('error registry', () => {
  it('documents every code with a message and an HTTP status', () => {
    for (const [code, { status, message }] of Object.entries(hs.ERROR_CODES)) {
      expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
      expect(message.length, `${code} has no message`).toBeGreaterThan(10);
      expect(message, `${code}'s message should be a sentence`).toMatch(/\.$/);
      expect(status, `${code} has no HTTP status`).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('holds every code the serving layers use', () => {
    const known = new Set(Object.keys(hs.ERROR_CODES));
    for (const file of SERVING_SOURCES.flatMap(sources)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/'(ERR_[A-Z0-9_]+)'/g))
        expect(known.has(m[1]), `${path.relative(process.cwd(), file)} uses ${m[1]}, which ts/errors.ts does not declare`).toBe(true);
    }
  });

  it('gives the serving codes the statuses the API promises', () => {
    expect(hs.httpStatusOf('ERR_QUEUE_FULL')).toBe(429);
    expect(hs.httpStatusOf('ERR_TIMEOUT')).toBe(504);
    expect(hs.httpStatusOf('ERR_MODEL_NOT_FOUND')).toBe(404);
    expect(hs.httpStatusOf('ERR_BAD_REQUEST')).toBe(400);
    expect(hs.httpStatusOf('ERR_GPU_PROCESS')).toBe(503);
    expect(hs.httpStatusOf('ERR_PAYLOAD_TOO_LARGE')).toBe(413);
  });
});
