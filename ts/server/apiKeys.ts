// Optional API keys for an HTTP app: every route but the open ones needs `Authorization: Bearer
// <key>` (what OpenAI clients send) or `x-api-key: <key>`; others get ERR_UNAUTHORIZED (401).
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { HsError } from '../errors';

function apiKeyOf(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const key = request.headers['x-api-key'];
  return typeof key === 'string' ? key : undefined;
}

/** Adds the check when `apiKeys` holds any key; `open` paths (health, metrics) never need one. */
export function requireApiKeys(app: FastifyInstance, apiKeys: readonly string[] | undefined, open: readonly RegExp[]): void {
  const keys = new Set(apiKeys ?? []);
  if (keys.size === 0) return;
  app.addHook('onRequest', async (request) => {
    if (open.some((re) => re.test(request.url.split('?')[0]))) return;
    const key = apiKeyOf(request);
    if (key === undefined || !keys.has(key)) throw new HsError('ERR_UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)');
  });
}
