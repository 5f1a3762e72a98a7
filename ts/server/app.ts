// The HTTP API (fastify) over an InferenceBackend: KServe v2 REST (server and model metadata,
// health, infer with JSON or binary tensors), Triton's repository extension (index, load,
// unload), Prometheus /metrics, optional API keys. Inference bodies are read as raw bytes so the
// binary extension and JSON share one parser; every error answers `{ error, code }`.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import { HsError } from '../errors';
import type { ServingMetrics } from '../metrics/ServingMetrics';
import { requireApiKeys } from './apiKeys';
import type { InferenceBackend } from './backend';
import { errorReply } from './httpErrors';
import { decodeInferRequest, encodeInferResponse } from './kserveCodec';

const VERSION: string = require('../../package.json').version;

export interface AppOptions {
  backend: InferenceBackend;
  metrics: ServingMetrics;
  /** The /metrics text; defaults to this process's registry (multi-process servers aggregate). */
  metricsText?: () => Promise<string>;
  /** Largest request body in bytes (default 64 MiB); larger bodies get 413 ERR_PAYLOAD_TOO_LARGE. */
  bodyLimit?: number;
  /** When set, every route but health and /metrics needs `Authorization: Bearer <key>` or `x-api-key: <key>`. */
  apiKeys?: string[];
  /** Socket-level limit for receiving a whole request (fastify requestTimeout), in ms. */
  requestTimeoutMs?: number;
  logger?: boolean;
}

const UNAUTHENTICATED = [/^\/v2\/health\//, /^\/metrics$/];

type ModelParams = { model: string; version?: string };


export function buildApp(options: AppOptions): FastifyInstance {
  const { backend, metrics } = options;
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit, requestTimeout: options.requestTimeoutMs ?? 0, return503OnClosing: true });

  app.setErrorHandler((error, _request, reply) => {
    const { status, body } = errorReply(error);
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, code: 'ERR_NOT_FOUND' });
  });

  // While closing, answers end their keep-alive connections, so that close() waits for requests in
  // flight only and not for idle sockets to time out.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
    app.server.closeIdleConnections();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close');
  });

  requireApiKeys(app, options.apiKeys, UNAUTHENTICATED);

  app.get('/v2', async () => ({ name: 'highservice-native', version: VERSION, extensions: ['binary_tensor_data', 'model_repository', 'statistics'] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    if (await backend.ready()) return { ready: true };
    return reply.status(503).send({ ready: false, error: 'not every model is loaded', code: 'ERR_MODEL_NOT_READY' });
  });

  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>) => backend.metadata(request.params.model, request.params.version);
  app.get('/v2/models/:model', metadata);
  app.get('/v2/models/:model/versions/:version', metadata);

  const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { model, version } = request.params;
    if (await backend.modelReady(model, version)) return { name: model, ready: true };
    await backend.metadata(model, version); // throws the precise reason: not found, or not ready
    return reply.status(503).send({ name: model, ready: false, error: `model '${model}' is not ready`, code: 'ERR_MODEL_NOT_READY' });
  };
  app.get('/v2/models/:model/ready', ready);
  app.get('/v2/models/:model/versions/:version/ready', ready);

  app.post('/v2/repository/index', async () => backend.index());
  app.post('/v2/repository/models/:model/load', async (request: FastifyRequest<{ Params: ModelParams }>) => {
    await backend.load(request.params.model);
    return {};
  });
  app.post('/v2/repository/models/:model/unload', async (request: FastifyRequest<{ Params: ModelParams }>) => {
    await backend.unload(request.params.model);
    return {};
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return options.metricsText ? options.metricsText() : metrics.registry.metrics();
  });

  // Inference routes read raw bytes (JSON or the binary extension) in a context of their own.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    const infer = async (request: FastifyRequest<{ Params: ModelParams; Body: Buffer }>, reply: FastifyReply) => {
      const started = performance.now();
      const { model, version } = request.params;
      try {
        if (!Buffer.isBuffer(request.body)) throw new HsError('ERR_BAD_REQUEST', 'the request needs a body');
        const headerLength = request.headers['inference-header-content-length'];
        const parsed = decodeInferRequest(request.body, typeof headerLength === 'string' ? headerLength : undefined);
        const result = await backend.infer(model, version, parsed.feeds, { priority: parsed.priority, timeoutMs: parsed.timeoutMs });
        const encoded = encodeInferResponse(model, result.version, parsed, result.outputs);
        metrics.observeRequest(model, (performance.now() - started) / 1000, null);
        if (encoded.headerLength === undefined) return reply.type('application/json').send(encoded.body);
        return reply.header('inference-header-content-length', encoded.headerLength).type('application/octet-stream').send(encoded.body);
      } catch (e) {
        const code = errorReply(e).body.code;
        // Unknown model names are not recorded: a label per made-up name would grow without bound.
        if (code !== 'ERR_MODEL_NOT_FOUND') metrics.observeRequest(model, (performance.now() - started) / 1000, code);
        throw e;
      }
    };
    scope.post('/v2/models/:model/infer', infer);
    scope.post('/v2/models/:model/versions/:version/infer', infer);
  });

  return app;
}
