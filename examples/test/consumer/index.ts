// Type-checked as a consumer project would be (see ../consumer-types.test.ts): TypeScript's
// default lib for the target, @types/node, skipLibCheck off. Never run.
import { type FileLike, IpcError } from '@luaipc/filelike';
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
