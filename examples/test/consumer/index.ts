// Type-checked as a consumer project would be (see ../consumer-types.test.ts): TypeScript's
// default lib for the target, @types/node, skipLibCheck off. Never run.
import { type FileLike, IpcError } from '@luaipc/filelike';
import { lock, lockSync, OFD_LOCKS, trylock, unlock } from '@luaipc/filelock';
import { type MappedFile, open as mapFile, pagesize } from '@luaipc/mmap';
import { EOF, type ExitResult, spawn } from '@luaipc/proc';
import { open as openSem, SEM_VALUE_MAX, type Semaphore } from '@luaipc/sem';
import { attach, create, MAX_SIZE, type SharedMemory } from '@luaipc/shm';
import { open as openString } from '@luaipc/strfile';

export async function useAll(): Promise<void> {
  const sem: Semaphore = openSem('jobs', 1);
  const got: boolean = await sem.dec({ timeout: 1, signal: AbortSignal.timeout(100) });
  const gotSync: boolean = sem.decSync(0.5);
  sem.inc();
  sem[Symbol.dispose]();
  const shm: SharedMemory = create('seg', 64);
  const bytes: SharedMemory<Buffer> = attach('seg', { encoding: 'buffer' });
  const buf: Buffer = shm.buffer;
  const line: string | null = shm.read('l');
  const chunk: Buffer | null = bytes.read(4);
  shm.write('x', 1, new Uint16Array([1]));
  const f: FileLike = openString('a\nb\n');
  const lines: string[] = [...f.lines()];
  try {
    openSem('missing');
  } catch (error) {
    if (error instanceof IpcError) console.log(error.code, error.path, error.syscall);
  }
  console.log(got, gotSync, buf.length, line, chunk, lines, SEM_VALUE_MAX, MAX_SIZE, bytes.addr());
}

export async function useFilesAndProcesses(fd: number): Promise<void> {
  const map: MappedFile = mapFile('data.txt', 'r', 0, pagesize);
  const bytes: MappedFile<Buffer> = mapFile('data.txt', { encoding: 'buffer' });
  const first: string | null = map.read('l');
  const locked: boolean = await lock(fd, 'w', { timeout: 1, signal: AbortSignal.timeout(100) });
  const tried: boolean = trylock(fd, 'r', 0, 10) && lockSync(fd, 'w', { timeout: 0 });
  unlock(fd);
  const child = spawn(['echo', 'hi'], {
    stdin: true,
    stdout: true,
    callback: (stream: 'stdout' | 'stderr', data: string | null) => console.log(stream, data),
  });
  child.write('input', EOF);
  const result: ExitResult = await child.wait();
  console.log(first, bytes.buffer.length, locked, tried, OFD_LOCKS, result, map.addr());
}
