// k6/experimental/fs for tests (see runtime.ts): open() a file read-only, seek() and read() into a Uint8Array.
import { openSync, readSync } from 'node:fs';

export enum SeekMode {
  Start = 0,
  Current = 1,
  End = 2,
}

export async function open(path: string) {
  const fd = openSync(path, 'r');
  let pos = 0;
  return {
    async seek(offset: number, whence: SeekMode): Promise<number> {
      if (whence !== SeekMode.Start) throw new Error('the stand-in seeks from the start only');
      return (pos = offset);
    },
    async read(p: Uint8Array): Promise<number | null> {
      const n = readSync(fd, p, 0, p.length, pos);
      pos += n;
      return n === 0 ? null : n;
    },
  };
}
