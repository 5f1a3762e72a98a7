// Worker-thread entry: reads (when given a path) and decodes an ONNX model off the main thread,
// then transfers the graph description back without copying the weight bytes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';

import type { GraphDesc } from '../binding';
import { decodeModel } from './decode';

export interface DecodeRequest {
  id: number;
  file?: string;
  bytes?: Uint8Array;
}

function buffersOf(graph: GraphDesc, out: Set<ArrayBuffer>): Set<ArrayBuffer> {
  // String tensors (string[]) are structured-cloned; only byte arrays are transferred.
  for (const t of graph.initializers) if (!Array.isArray(t.data)) out.add(t.data.buffer as ArrayBuffer);
  for (const n of graph.nodes)
    for (const a of n.attrs) {
      if (a.kind === 't' && !Array.isArray(a.value.data)) out.add(a.value.data.buffer as ArrayBuffer);
      if (a.kind === 'g') buffersOf(a.value, out);
    }
  return out;
}

parentPort?.on('message', async (req: DecodeRequest) => {
  try {
    let bytes: Uint8Array;
    if (req.file) {
      try {
        bytes = await readFile(req.file);
      } catch (e) {
        throw Object.assign(new Error(`cannot read model '${req.file}': ${(e as Error).message}`), { code: 'ERR_NOT_FOUND' });
      }
    } else bytes = req.bytes!;
    const graph = await decodeModel(bytes, { baseDir: req.file ? path.dirname(req.file) : undefined });
    const transfer = [...buffersOf(graph, new Set())].filter((b) => !(b instanceof SharedArrayBuffer));
    parentPort!.postMessage({ id: req.id, graph }, transfer);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    parentPort!.postMessage({ id: req.id, error: { code: err.code ?? 'ERR_INVALID_MODEL', message: err.message ?? String(e) } });
  }
});
