// The shared-memory ring allocator and tensor transport, within one process over a real POSIX
// segment: allocation, release by the reader, out-of-order release, wrap-around, full ring.
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { hs } from '../helpers';

// The addon's functions, loaded as ts/binding.ts does.
const addon = (process.env.HS_ADDON_PATH ? require(path.resolve(process.env.HS_ADDON_PATH)) : require('node-gyp-build')(path.join(__dirname, '../..'))) as {
  shmCreate(name: string, bytes: number): ArrayBuffer; shmOpen(name: string): ArrayBuffer; shmUnlink(name: string): boolean;
};
const name = `/hs-test-ring-${process.pid}`;
afterEach(() => addon.shmUnlink(name));

describe('shared memory segments', () => {
  it('maps the same bytes in two mappings; names are checked', () => {
    const a = new Uint8Array(addon.shmCreate(name, 4096));
    const b = new Uint8Array(addon.shmOpen(name));
    a[100] = 7;
    expect(b[100]).toBe(7);
    expect(b.length).toBe(4096);
    expect(() => addon.shmCreate(name, 4096)).toThrow(/File exists/);
    expect(() => addon.shmOpen('/hs-does-not-exist')).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }));
    expect(() => addon.shmCreate('no-slash', 64)).toThrow(TypeError);
    expect(() => addon.shmCreate(`${name}-x`, -1)).toThrow(RangeError);
  });
});

describe('ShmRing', () => {
  it('allocates, reclaims released blocks (also out of order) and wraps around', () => {
    const ring = new hs.ShmRing(addon.shmCreate(name, 1024), 0, 1024);
    const a = ring.alloc(200)!; // 256 bytes with the header
    const b = ring.alloc(200)!;
    const c = ring.alloc(200)!;
    expect([a, b, c]).toEqual([16, 272, 528]);
    expect(ring.alloc(300)).toBeNull(); // 256 bytes left at the end, none at the start
    ring.release(b); // out of order: the tail still waits for a
    expect(ring.alloc(300)).toBeNull();
    ring.release(a);
    expect(ring.usedBytes).toBe(256); // only c is held
    const d = ring.alloc(300)!; // does not fit before the end: a filler, then offset 0
    expect(d).toBe(16);
    ring.release(c);
    ring.release(d);
    expect(ring.usedBytes).toBe(0);
  });
});
