// The CommonJS side of the consumer check (module node16): the packages' .d.cts types.
import filelike = require('@luaipc/filelike');
import filelock = require('@luaipc/filelock');
import mmap = require('@luaipc/mmap');
import proc = require('@luaipc/proc');
import sem = require('@luaipc/sem');
import shm = require('@luaipc/shm');
import strfile = require('@luaipc/strfile');

export function useFromCommonJs(): void {
  const s: sem.Semaphore = sem.open('jobs', 1);
  const ok: boolean = s.tryDec();
  const seg: shm.SharedMemory<Buffer> = shm.create('seg', 8, { encoding: 'buffer' });
  const f: filelike.FileLike = strfile.open('x');
  const map: mmap.MappedFile = mmap.open('data.txt');
  const locked: boolean = filelock.trylock(3, 'w');
  const child: proc.Process = proc.spawn('true');
  console.log(
    ok,
    seg.buffer.length,
    f.read('a'),
    filelike.IpcError.name,
    map.size(),
    locked,
    child.pid,
  );
}
