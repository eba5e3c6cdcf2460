import * as cp from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { compileC } from '../harness/cc.js';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';

type ProcModule = typeof import('@luaipc/proc');

export interface ProcSpawnParams {
  /** Timed spawn-and-wait cycles per run (a tenth more run untimed first). */
  spawns: number;
  /** The compiled bench/c/proc_spawn.c. */
  cSpawn: string;
}

function spawnMetrics(seconds: number, spawns: number): Metrics {
  return { seconds, spawns, spawnsPerSec: spawns / seconds, usPerSpawn: (seconds / spawns) * 1e6 };
}

/** Runs `once` `spawns / 10` times untimed, then `spawns` times timed, one after another. */
async function timedSpawns(spawns: number, once: () => unknown): Promise<Metrics> {
  for (let i = 0; i < spawns / 10; i++) await once();
  const start = process.hrtime.bigint();
  for (let i = 0; i < spawns; i++) await once();
  return spawnMetrics(secondsSince(start), spawns);
}

const proc = (): Promise<ProcModule> => import('@luaipc/proc');

/** child_process.spawn until 'exit' (no pipes: stdio inherited, as @luaipc/proc's default). */
function cpSpawn(file: string, options: cp.SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = cp.spawn(file, { stdio: 'inherit', ...options });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

export default defineSuite<ProcSpawnParams>({
  name: 'proc-spawn',
  title: 'start a program and wait for it, one after another',
  about:
    'Spawn-and-wait cycles of `/bin/true` (2,000 timed after 200 untimed; 200 in quick runs), ' +
    'stdio inherited (no pipes) except for execa, which pipes and buffers by default. ' +
    '"through the shell" runs `true` as `/bin/sh -c true`. The C case is posix_spawn + ' +
    'waitpid in a loop: the floor.',
  columns: [
    { key: 'spawnsPerSec', label: 'spawns/s', better: 'higher', format: 'si' },
    { key: 'usPerSpawn', label: 'µs/spawn', better: 'lower', format: 'fixed', digits: 0 },
  ],
  ratios: [
    { metric: 'spawnsPerSec', against: 'cp' },
    { metric: 'spawnsPerSec', against: 'c' },
  ],
  targets: [
    {
      case: 'proc',
      against: 'cp',
      metric: 'spawnsPerSec',
      op: '>=',
      value: 1.5,
      label: 'spawn([...]) + await wait() >= 1.5x child_process.spawn (spawns/s)',
    },
  ],
  prepare({ quick }) {
    return { spawns: quick ? 200 : 2000, cSpawn: compileC('proc_spawn') };
  },
  cases: [
    {
      id: 'c',
      label: 'C posix_spawn + waitpid',
      run({ params }) {
        const out = execFileSync(params.cSpawn, ['/bin/true', String(params.spawns)], {
          encoding: 'utf8',
        });
        const { seconds, spawns } = JSON.parse(out) as { seconds: number; spawns: number };
        return spawnMetrics(seconds, spawns);
      },
    },
    {
      id: 'proc',
      label: "@luaipc/proc spawn(['/bin/true']) + await wait()",
      async run({ params }) {
        const { spawn } = await proc();
        return timedSpawns(params.spawns, () => spawn(['/bin/true']).wait());
      },
    },
    {
      id: 'proc-sync',
      label: "@luaipc/proc spawn(['/bin/true']).waitSync()",
      async run({ params }) {
        const { spawn } = await proc();
        return timedSpawns(params.spawns, () => spawn(['/bin/true']).waitSync());
      },
    },
    {
      id: 'proc-shell',
      label: "@luaipc/proc spawn('true') through the shell",
      async run({ params }) {
        const { spawn } = await proc();
        return timedSpawns(params.spawns, () => spawn('true').wait());
      },
    },
    {
      id: 'cp',
      label: "child_process.spawn('/bin/true'), 'exit'",
      run: ({ params }) => timedSpawns(params.spawns, () => cpSpawn('/bin/true', {})),
    },
    {
      id: 'cp-shell',
      label: "child_process.spawn('true', { shell: true })",
      run: ({ params }) => timedSpawns(params.spawns, () => cpSpawn('true', { shell: true })),
    },
    {
      id: 'cp-sync',
      label: "child_process.spawnSync('/bin/true')",
      run: ({ params }) =>
        timedSpawns(params.spawns, () => {
          const r = cp.spawnSync('/bin/true', { stdio: 'inherit' });
          if (r.status !== 0) throw new Error(`exit ${r.status}`);
        }),
    },
    {
      id: 'execa',
      label: "execa('/bin/true')",
      async run({ params }) {
        const { execa } = await import('execa');
        return timedSpawns(params.spawns, () => execa('/bin/true'));
      },
    },
  ],
});
