#!/usr/bin/env node
// The baseline of the serving bench: a plain fastify server around onnxruntime-node, one
// session.run per request, no batching. It speaks enough KServe v2 for the load generator
// (model metadata; infer with binary tensors in and out).
//   node bench/serving/plain-ort-server.mjs <model.onnx> <port> [threads]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const Fastify = require('fastify');

const [file, port, threads = '1'] = process.argv.slice(2);
const session = await ort.InferenceSession.create(readFileSync(file), { intraOpNumThreads: Number(threads), interOpNumThreads: 1 });
const app = Fastify();
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 << 20 }, (_r, body, done) => done(null, body));

app.get('/v2/models/:model', async () => ({
  inputs: session.inputNames.map((name) => {
    const meta = session.inputMetadata.find((m) => m.name === name);
    return { name, datatype: 'FP32', shape: (meta?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)) };
  }),
}));

app.post('/v2/models/:model/infer', async (request, reply) => {
  const body = request.body;
  const headerLength = Number(request.headers['inference-header-content-length']);
  const header = JSON.parse(body.subarray(0, headerLength).toString());
  const feeds = {};
  let at = headerLength;
  for (const input of header.inputs) {
    const size = input.parameters.binary_data_size;
    const bytes = body.subarray(at, at + size);
    feeds[input.name] = new ort.Tensor('float32', new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + size)), input.shape);
    at += size;
  }
  const out = await session.run(feeds);
  const outputs = [];
  const chunks = [];
  for (const name of session.outputNames) {
    const t = out[name];
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    outputs.push({ name, datatype: 'FP32', shape: t.dims, parameters: { binary_data_size: bytes.length } });
    chunks.push(bytes);
  }
  const json = Buffer.from(JSON.stringify({ model_name: request.params.model, outputs }));
  return reply.header('inference-header-content-length', json.length).type('application/octet-stream').send(Buffer.concat([json, ...chunks]));
});

await app.listen({ port: Number(port), host: '127.0.0.1' });
process.send?.('ready');
