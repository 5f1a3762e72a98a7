// Length-prefixed JSON frames over a stream socket (the Unix socket between CPU workers and the
// GPU process): [u32 little-endian byte length][UTF-8 JSON]. Frames carry control data and tensor
// descriptors only; tensor bytes live in shared memory.
import type { Socket } from 'node:net';

const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function sendFrame(socket: Socket, message: unknown): void {
  const json = Buffer.from(JSON.stringify(message));
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(json.length, 0);
  socket.write(Buffer.concat([prefix, json]));
}

/** Calls `onMessage` for each complete frame; a malformed or oversize frame destroys the socket. */
export function readFrames(socket: Socket, onMessage: (message: unknown) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readUInt32LE(0);
      if (length > MAX_FRAME_BYTES) {
        socket.destroy(new Error(`IPC frame of ${length} bytes is over the ${MAX_FRAME_BYTES}-byte limit`));
        return;
      }
      if (pending.length < 4 + length) return;
      const json = pending.subarray(4, 4 + length).toString('utf8');
      pending = pending.subarray(4 + length);
      let message: unknown;
      try {
        message = JSON.parse(json);
      } catch {
        socket.destroy(new Error('malformed IPC frame'));
        return;
      }
      onMessage(message);
    }
  });
}
