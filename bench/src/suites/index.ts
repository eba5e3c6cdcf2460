import type { Suite } from '../types.js';
import channel from './channel.js';
import channelBig from './channel-big.js';
import channelRtt from './channel-rtt.js';
import channelWorkers from './channel-workers.js';
import copy from './copy.js';
import filelock from './filelock.js';
import filelockHandoff from './filelock-handoff.js';
import lines from './lines.js';
import mmap from './mmap.js';
import pingpong from './pingpong.js';
import procCat from './proc-cat.js';
import procFlood from './proc-flood.js';
import procSpawn from './proc-spawn.js';
import procStdout from './proc-stdout.js';

/**
 * Every suite, in the order `pnpm bench` runs them and RESULTS.md lists them. Add a suite by
 * importing its module here.
 */
// biome-ignore lint/suspicious/noExplicitAny: each suite has its own parameter type.
export const suites: Suite<any>[] = [
  lines,
  pingpong,
  copy,
  filelock,
  filelockHandoff,
  mmap,
  procSpawn,
  procStdout,
  procCat,
  procFlood,
  channel,
  channelBig,
  channelRtt,
  channelWorkers,
];
