// Decodes ONNX models on a worker thread so that loading a large model never blocks the event loop.
// One worker serves every load; it is unref'ed so it never keeps the process alive.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import type { GraphDesc } from '../binding';
import { HsError, type ErrorCode } from '../errors';
import { decodeModel } from './decode';
import type { DecodeRequest } from './decode-worker';

type Reply = { id: number; graph?: GraphDesc; error?: { code: ErrorCode; message: string } };

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (g: GraphDesc) => void; reject: (e: Error) => void }>();

function getWorker(): Worker | undefined {
  const entry = path.join(__dirname, 'decode-worker.js');
  if (!fs.existsSync(entry)) return undefined; // running from sources (ts/): decode inline
  if (worker) return worker;
  const w = new Worker(entry);
  w.unref();
  w.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (pending.size === 0) w.unref();
    if (reply.graph) p.resolve(reply.graph);
    else p.reject(new HsError(reply.error!.code, reply.error!.message));
  });
  w.on('error', (e) => {
    for (const p of pending.values()) p.reject(new HsError('ERR_INTERNAL', `decoder thread failed: ${e.message}`));
    pending.clear();
    worker = undefined;
  });
  w.on('exit', () => {
    worker = undefined;
  });
  worker = w;
  return w;
}

/** Reads (for a path) and decodes a model off the main thread. */
export function decodeOffThread(model: { file: string } | { bytes: Uint8Array }): Promise<GraphDesc> {
  const w = getWorker();
  if (!w) {
    if ('bytes' in model) return decodeModel(model.bytes);
    return fs.promises.readFile(model.file).then((b) => decodeModel(b, { baseDir: path.dirname(model.file) }));
  }
  const id = nextId++;
  const req: DecodeRequest = 'file' in model ? { id, file: model.file } : { id, bytes: model.bytes };
  return new Promise<GraphDesc>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage(req);
  });
}
