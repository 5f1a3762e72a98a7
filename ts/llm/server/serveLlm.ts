// serveLlm: loads a Hugging Face model directory and serves it with the OpenAI-compatible API.
import type { FastifyInstance } from 'fastify';

import { LlmEngine, type LlmEngineOptions } from '../LlmEngine';
import { buildLlmApp } from './app';

export interface ServeLlmOptions extends LlmEngineOptions {
  dir: string;
  /** 0 picks a free port (default 8000). */
  port?: number;
  host?: string;
  logger?: boolean;
  /** Keys one of which every request but /health and /metrics must bring (Authorization: Bearer <key>). */
  apiKeys?: string[];
  /** How many /v1/responses results are kept for previous_response_id (default 1000; 0: none). */
  storedResponses?: number;
}

export interface LlmServer {
  engine: LlmEngine;
  app: FastifyInstance;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

export async function serveLlm(options: ServeLlmOptions): Promise<LlmServer> {
  const { dir, port = 8000, host = '127.0.0.1', logger, apiKeys, storedResponses, ...engineOptions } = options;
  const engine = await LlmEngine.load(dir, engineOptions);
  const { app } = buildLlmApp(engine, { logger, apiKeys, storedResponses });
  try {
    await app.listen({ port, host });
  } catch (e) {
    engine.dispose();
    throw e;
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    engine,
    app,
    url: `http://${host}:${actualPort}`,
    async close() {
      await app.close();
      engine.dispose();
    },
  };
}
