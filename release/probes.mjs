// What differs most between JavaScript runtimes, beyond the smoke run: worker threads (an addon
// loaded per thread, a blocking wait in a worker that is terminated), a mapping another process
// shrinks (a signal handler of ours), cleanup at process.exit() and by the garbage collector.
// Run with node, bun or deno (`deno run -A`) in a project where the @luaipc packages are
// installed, passing the runtime's own command line for a child process:
//   node probes.mjs node            bun probes.mjs bun            deno run -A probes.mjs deno run -A
// Prints one line per probe and "probes ok" at the end; any failure throws.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { create as createChannel } from '@luaipc/channel';
import * as mmap from '@luaipc/mmap';
import { open as openSem } from '@luaipc/sem';
import { create } from '@luaipc/shm';

const tag = `probe-${process.pid}`;
const runtime = process.argv.slice(2); // how to start this runtime on a script
const dir = mkdtempSync(join(tmpdir(), 'luaipc-probes-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  {
    const sem = openSem(`${tag}-w`, 1);
    sem.tryDec();
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import('@luaipc/sem').then(async ({ open }) => {
         parentPort.postMessage(await open(workerData).dec(10));
       });`,
      { eval: true, workerData: `${tag}-w` },
    );
    const answer = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await sleep(200);
    sem.inc();
    assert.equal(await answer, true);
    await worker.terminate();
    sem.close();
    console.log('a worker loads an addon and its dec() waits: ok');
  }
  {
    const sem = openSem(`${tag}-t`, 1);
    sem.tryDec();
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import('@luaipc/sem').then(({ open }) => {
         const s = open(workerData);
         parentPort.postMessage('waiting');
         s.decSync();
       });`,
      { eval: true, workerData: `${tag}-t` },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    await sleep(100);
    await worker.terminate();
    sem.close();
    console.log('a worker terminated inside decSync(): ok');
  }
  {
    // A worker thread is a sender of its own; the main thread's receive() waits meanwhile.
    const rx = createChannel(`${tag}-c`, { encoding: 'utf8' });
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       import('@luaipc/channel').then(async ({ connect }) => {
         const tx = connect(workerData);
         for (let i = 0; i < 1000; i++) await tx.send(String(i));
         tx.close();
       });`,
      { eval: true, workerData: rx.name },
    );
    let sum = 0;
    for (let i = 0; i < 1000; i++) sum += Number(await rx.receive(10));
    assert.equal(sum, 499_500);
    await worker.terminate();
    rx.close();
    console.log('a worker sends through a channel to a waiting receive(): ok');
  }
  {
    const file = join(dir, 'shrinks');
    writeFileSync(file, Buffer.alloc(1 << 16, 0x61));
    const map = mmap.open(file, 'r');
    const view = map.buffer;
    const fd = openSync(file, 'r+');
    ftruncateSync(fd, 0);
    closeSync(fd);
    assert.equal(view[40_000], 0); // the lost pages read as zeros, not SIGBUS
    assert.throws(() => map.read(10), { name: 'IpcError', code: 'ENXIO' });
    map.close();
    console.log('a file shrunk under its mapping reads zeros: ok');
  }
  {
    const seg = create(`${tag}-s`, 1 << 16);
    const view = seg.buffer;
    const fd = openSync(`/dev/shm/${tag}-s`, 'r+'); // as another process could
    ftruncateSync(fd, 0);
    closeSync(fd);
    assert.equal(view[40_000], 0);
    assert.throws(() => seg.read(10), { name: 'IpcError', code: 'ENXIO' });
    seg.close();
    console.log('a shrunk shared memory segment reads zeros: ok');
  }
  {
    const script = join(process.cwd(), `${tag}-exits.mjs`); // where the packages resolve
    writeFileSync(
      script,
      `import { create } from '@luaipc/shm'; create('${tag}-x', 64); process.exit(0);\n`,
    );
    const [cmd, ...args] = runtime;
    const r = spawnSync(cmd, [...args, script], { encoding: 'utf8' });
    rmSync(script);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(`/dev/shm/${tag}-x`), false, 'process.exit() left the name behind');
    console.log('process.exit() removes the names a process created: ok');
  }
  {
    const file = join(dir, 'collected');
    writeFileSync(file, Buffer.alloc(1 << 20));
    // More mappings than the kernel allows one process (65530): only collection frees them,
    // as the event loop gets its turns.
    for (let i = 0; i < 70_000; i++) {
      mmap.open(file, 'r');
      if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    console.log('unclosed handles are collected: ok');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('probes ok');
