import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildResult, runNode } from '@luaipc/testing';
import type { Stream } from '../src/index.js';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Runs `node [nodeArgs] fixtures/<script> ...args` and collects its output, code and signal. */
export function runFixture(
  script: string,
  args: string[] = [],
  nodeArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<ChildResult> {
  return runNode(join(fixtures, script), args, { nodeArgs, timeoutMs });
}

/** A spawn callback that records every call, and what each stream received in total. */
export function recorder() {
  const calls: unknown[][] = [];
  const text = { stdout: '', stderr: '' };
  const callback = (stream: Stream, data: string | Buffer | null, ...rest: unknown[]): void => {
    calls.push([stream, data, ...rest]);
    if (typeof data === 'string') text[stream] += data;
  };
  return { calls, text, callback };
}

/** Checks the counter.mjs pattern as it arrives, without keeping it. */
export function counterChecker() {
  let offset = 0;
  let bad = -1;
  let carry = Buffer.alloc(0);
  return {
    feed(data: Buffer): void {
      const buf = carry.length > 0 ? Buffer.concat([carry, data]) : data;
      const whole = buf.length - (buf.length % 4);
      for (let i = 0; i < whole && bad < 0; i += 4) {
        if (buf.readUInt32LE(i) !== (offset + i) / 4) bad = offset + i;
      }
      offset += whole;
      carry = Buffer.from(buf.subarray(whole));
    },
    /** Bytes received (complete words), and the offset of the first wrong word or -1. */
    get result() {
      return { bytes: offset + carry.length, firstBad: bad };
    },
  };
}

interface ProcInfo {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  cmdline: string;
}

/** Every process visible in /proc with its state, parent and group. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({
        pid: Number(entry),
        state: fields[0] as string,
        ppid: Number(fields[1]),
        pgrp: Number(fields[2]),
        cmdline,
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Children of this process that have exited but were never reaped. */
export function zombies(): ProcInfo[] {
  return processes().filter((p) => p.ppid === process.pid && p.state === 'Z');
}

/** This process's open descriptors, with what they point at. */
export function openFds(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd} -> (gone)`;
    }
  });
}

/** Threads of this process. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `ms` pass; returns its last answer. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() > until) return false;
    await sleep(20);
  }
}

/** Whether this run loads the LUAIPC_PORTABLE build (no pidfd, eventfd or pipe2). */
export const portable = process.env.LUAIPC_ADDON_DIR === 'build-portable';
