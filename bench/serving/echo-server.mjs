#!/usr/bin/env node
// The serving bench's floor: fastify answering every infer request with the bytes it received,
// no model. Its latency is what loopback HTTP, fastify and the load generator cost on this host;
// no server that runs a model can answer faster.
//   node bench/serving/echo-server.mjs <port> <input name> <dims, e.g. 1x64>
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Fastify = require('fastify');

const [port, input, dims] = process.argv.slice(2);
const app = Fastify();
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 << 20 }, (_r, body, done) => done(null, body));
app.get('/v2/models/:model', async () => ({ inputs: [{ name: input, datatype: 'FP32', shape: dims.split('x').map(Number) }] }));
app.post('/v2/models/:model/infer', async (request, reply) =>
  reply.header('inference-header-content-length', request.headers['inference-header-content-length']).type('application/octet-stream').send(request.body));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.send?.('ready');
