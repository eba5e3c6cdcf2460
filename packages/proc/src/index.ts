/**
 * Subprocesses with piped stdin/stdout/stderr: a callback per output chunk, `await wait()`, a
 * streaming `waitSync()`, group `kill()` (LuaIPC's `proc`).
 *
 * @packageDocumentation
 */
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import {
  checkEncoding,
  closedError,
  type Encoding,
  IpcError,
  illegalConstructor,
  invalidArgType,
  invalidArgValue,
  withCode,
} from '@luaipc/filelike';
import { onAbort } from '@luaipc/native/abort';
import { checkFd, checkInteger, checkOptions, checkSignal } from '@luaipc/native/args';
import {
  addon,
  type Dispatch,
  INHERIT,
  Kind,
  type NativeProcess,
  type NativeSpawnOptions,
  type OutputStream,
  PIPE,
} from './binding.js';

export { type Encoding, IpcError };

/**
 * Pass it to {@link Process.write} to close the child's stdin once everything queued before it
 * has been written (LuaIPC's `proc.EOF`).
 */
export const EOF: unique symbol = Symbol.for('@luaipc/proc.EOF');

/** The output stream a callback call is about. */
export type Stream = 'stdout' | 'stderr';

/**
 * What `wait()` and `waitSync()` give, as Lua's `os.execute` does: `[true, 'exit', 0]` for a
 * clean exit, `[null, 'exit', status]` for a non-zero status, `[null, 'signal', signo]` when a
 * signal ended the child.
 */
export type ExitResult = [ok: true | null, how: 'exit' | 'signal', code: number];

/** What a callback receives as data with each encoding. */
export type OutputData<E extends Encoding> = E extends 'buffer' ? Buffer : string;

/**
 * Called on the JS thread with each piece of output, as it arrives: `(stream, data)`. When
 * reading a stream fails: `(stream, null, message, code)` (the stream has ended then).
 */
export type OutputCallback<E extends Encoding = 'utf8'> = (
  stream: Stream,
  data: OutputData<E> | null,
  message?: string,
  code?: string,
) => void;

/** Something with an open file descriptor, like the `FileHandle` of `fs.promises.open`. */
export interface HasFd {
  readonly fd: number;
}

/**
 * For `stdin`/`stdout`/`stderr`: `true` pipes the stream to this process; `false`, `null` or
 * absent lets the child use this process's own stream; a file descriptor or a `FileHandle`
 * redirects it there.
 */
export type Redirect = boolean | null | undefined | number | HasFd;

export interface SpawnOptions<E extends Encoding = 'utf8'> {
  stdin?: Redirect;
  stdout?: Redirect;
  stderr?: Redirect;
  /** Required when stdout or stderr is piped. */
  callback?: OutputCallback<E>;
  /** The child's working directory. */
  cwd?: string | URL;
  /** The child's whole environment (default: `process.env`). Values are made strings. */
  env?: Record<string, string | number | boolean | undefined>;
  /**
   * How output reaches the callback: `'utf8'` (default) strings, never splitting a character
   * across two calls; `'latin1'` strings, one character per byte; `'buffer'` Buffers.
   */
  encoding?: E;
  /**
   * Starts the child in a process group of its own, so {@link Process.kill} signals the whole
   * group (a shell pipeline and everything it started). See the README for the trade-off.
   */
  group?: boolean;
}

/** What a {@link Process.write} call accepts. */
export type WriteChunk = string | ArrayBufferView | typeof EOF;

/** Options of {@link Process.wait}. */
export interface ProcessWaitOptions {
  /** Aborting rejects this `wait()` with `signal.reason`; the child keeps running. */
  signal?: AbortSignal;
}

const CONSTRUCT = Symbol('Process');
const STREAMS = ['stdin', 'stdout', 'stderr'] as const;
const INT_MAX = 2 ** 31 - 1;
const STRING_CHUNK = 64 * 1024;

interface Pending {
  resolve(result: ExitResult): void;
  reject(error: unknown): void;
}

interface Prepared {
  options: NativeSpawnOptions;
  encoding: Encoding;
  callback: OutputCallback<Encoding> | undefined;
}

function noNul(value: string, name: string): string {
  if (value.includes('\0')) {
    throw invalidArgValue(name, value, 'must be a string without null bytes');
  }
  return value;
}

function checkRedirect(value: unknown, name: string): number {
  if (value === undefined || value === null || value === false) return INHERIT;
  if (value === true) return PIPE;
  if (
    typeof value === 'number' ||
    (typeof value === 'object' && typeof (value as HasFd).fd === 'number')
  ) {
    return checkFd(value, name, 'dup2');
  }
  throw invalidArgType(name, 'of type boolean or number or an instance of FileHandle', value);
}

function checkCwd(cwd: unknown): string | null {
  if (cwd === undefined) return null;
  if (cwd instanceof URL) return noNul(fileURLToPath(cwd), 'options.cwd');
  if (typeof cwd !== 'string') {
    throw invalidArgType('options.cwd', 'of type string or an instance of URL', cwd);
  }
  return noNul(cwd, 'options.cwd');
}

function checkEnv(env: unknown): { list: string[] | null; path: string | undefined } {
  if (env === undefined) {
    // The main thread's process.env is the C environment itself; a worker's is its own copy.
    if (isMainThread) return { list: null, path: process.env.PATH };
    env = process.env;
  }
  // An array is an execve-style list ['A=1'], which would become '0=A=1'.
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    throw invalidArgType('options.env', 'of type object', env);
  }
  const list: string[] = [];
  let path: string | undefined;
  for (const [key, raw] of Object.entries(env as Record<string, unknown>)) {
    if (raw === undefined) continue;
    // Anything else is made a string, as child_process does; a Symbol cannot be one there.
    if (typeof raw === 'symbol') {
      throw invalidArgType(`options.env['${key}']`, 'of type string', raw);
    }
    const value = String(raw);
    noNul(key, `options.env['${key}']`);
    noNul(value, `options.env['${key}']`);
    if (key === 'PATH') path = value;
    list.push(`${key}=${value}`);
  }
  return { list, path };
}

function prepare(cmd: unknown, options: unknown): Prepared {
  const argv: string[] = [];
  let shell = false;
  if (typeof cmd === 'string') {
    // LuaIPC (and os.execute, io.popen) run a command string through the shell.
    shell = true;
    noNul(cmd, 'cmd');
  } else if (Array.isArray(cmd)) {
    if (cmd.length === 0) {
      throw invalidArgValue('cmd', cmd, 'must not be empty');
    }
    // By index: map() skips holes (['echo', , 'x']), which must be reported as undefined.
    for (let i = 0; i < cmd.length; i++) {
      const arg: unknown = cmd[i];
      if (typeof arg !== 'string') throw invalidArgType(`cmd[${i}]`, 'of type string', arg);
      argv.push(noNul(arg, `cmd[${i}]`));
    }
    if (argv[0] === '') throw invalidArgValue('cmd[0]', '', 'must not be empty');
  } else {
    throw invalidArgType('cmd', 'of type string or an instance of Array', cmd);
  }
  const opts = checkOptions(options) as SpawnOptions<Encoding>;
  const stdio = STREAMS.map((s) => checkRedirect(opts[s], `options.${s}`)) as [
    number,
    number,
    number,
  ];
  const { callback } = opts;
  if (callback !== undefined && typeof callback !== 'function') {
    throw invalidArgType('options.callback', 'of type function', callback);
  }
  if (callback === undefined && (stdio[1] === PIPE || stdio[2] === PIPE)) {
    throw invalidArgType('options.callback', 'of type function', callback);
  }
  const cwd = checkCwd(opts.cwd);
  const env = checkEnv(opts.env);
  const encoding = checkEncoding(opts);
  if (opts.group !== undefined && typeof opts.group !== 'boolean') {
    throw invalidArgType('options.group', 'of type boolean', opts.group);
  }
  const file = shell ? (cmd as string) : (argv[0] as string);
  return {
    options: {
      file,
      searchPath: shell || file.includes('/') ? null : (env.path ?? null),
      argv,
      env: env.list,
      cwd,
      stdio,
      shell,
      group: opts.group === true,
    },
    encoding,
    callback,
  };
}

function signalNumber(signal: unknown): number {
  if (typeof signal === 'number') return checkInteger(signal, 'signal', 0, INT_MAX);
  if (typeof signal !== 'string') {
    throw invalidArgType('signal', 'of type string or number', signal);
  }
  const table = constants.signals as Readonly<Record<string, number>>;
  // Node's names ('SIGTERM') and LuaIPC's ('term', 'kill'), for every signal.
  const n = Object.hasOwn(table, signal) ? table[signal] : table[`SIG${signal.toUpperCase()}`];
  if (n === undefined) {
    throw withCode(new TypeError(`Unknown signal: ${signal}`), 'ERR_UNKNOWN_SIGNAL');
  }
  return n;
}

/**
 * A running (or finished) child process, from {@link spawn}: LuaIPC's process handle. Its
 * output reaches the spawn callback on the JS thread while the child runs, through this
 * process's event loop, or from inside {@link waitSync}.
 */
export class Process implements Disposable {
  /** The child's process id (also its process group id with `group: true`). */
  readonly pid: number;
  readonly #native: NativeProcess;
  readonly #stdinPiped: boolean;
  readonly #callback: OutputCallback<Encoding> | undefined;
  readonly #decoders: [StringDecoder | undefined, StringDecoder | undefined];
  #ended = false;
  #result: ExitResult | undefined;
  #error: unknown;
  #settled = false;
  #userRef = true;
  #keep = false;
  readonly #pending = new Set<Pending>();

  /** @internal Processes are made by {@link spawn}. */
  constructor(token: symbol, prepared: Prepared) {
    if (token !== CONSTRUCT)
      throw illegalConstructor('Process handles are made by spawn(cmd, options)');
    const { encoding, options } = prepared;
    this.#callback = prepared.callback;
    this.#stdinPiped = options.stdio[0] === PIPE;
    this.#decoders =
      encoding === 'buffer'
        ? [undefined, undefined]
        : [new StringDecoder(encoding), new StringDecoder(encoding)];
    this.#native = new addon.Process(
      options,
      this.#dispatch,
      // A string decoded from more than 64 KiB lands in V8's large-object space, which is
      // several times slower to make; Buffers may be larger.
      encoding === 'buffer' ? 0 : STRING_CHUNK,
    );
    this.pid = this.#native.pid;
    this.#updateKeep();
  }

  /** Whether {@link close} was called (or the handle was closed at teardown). */
  get closed(): boolean {
    return this.#native.closed;
  }

  #open(): NativeProcess {
    if (this.#native.closed) throw closedError('process');
    return this.#native;
  }

  #updateKeep(): void {
    const keep =
      !this.#settled && !this.#native.closed && (this.#userRef || this.#pending.size > 0);
    if (keep === this.#keep) return;
    this.#keep = keep;
    this.#native.setKeepAlive(keep);
  }

  #emit(stream: OutputStream, data: string | Buffer | null, message?: string, code?: string): void {
    const name: Stream = stream === 1 ? 'stdout' : 'stderr';
    const callback = this.#callback as OutputCallback<Encoding>;
    if (message === undefined) callback(name, data);
    else callback(name, data, message, code);
  }

  #flush(stream: OutputStream): void {
    const decoder = this.#decoders[stream - 1];
    if (decoder === undefined) return;
    // An incomplete character at the very end comes out as U+FFFD, as with StringDecoder.
    const rest = decoder.end();
    if (rest.length > 0) this.#emit(stream, rest);
  }

  // Positional, not one object per event: output arrives in many small calls.
  readonly #dispatch: Dispatch = (kind, a?, b?, c?) => {
    switch (kind) {
      case Kind.Data: {
        const decoder = this.#decoders[a - 1];
        if (decoder === undefined) {
          this.#emit(a, b);
        } else {
          const text = decoder.write(b);
          if (text.length > 0) this.#emit(a, text);
        }
        break;
      }
      case Kind.End:
        this.#flush(a);
        break;
      case Kind.Error: {
        this.#flush(a);
        const error = IpcError.fromErrno(b, 'read');
        this.#emit(a, null, error.message, error.code);
        break;
      }
      case Kind.Exit:
        if (a !== 0) this.#error = IpcError.fromErrno(a, 'waitpid');
        else this.#result = [!b && c === 0 ? true : null, b ? 'signal' : 'exit', c];
        this.#settled = true;
        this.#updateKeep();
        for (const pending of this.#pending) {
          if (this.#result) pending.resolve([...this.#result]);
          else pending.reject(this.#error);
        }
        this.#pending.clear();
        break;
      case Kind.More: {
        // The rest of the queued output comes after timers and I/O had their turn; the child's
        // thread stops reading meanwhile once the queue is full.
        const immediate = setImmediate(() => {
          if (!this.#native.closed) this.#native.drain();
        });
        if (!this.#keep) immediate.unref();
        break;
      }
    }
  };

  /**
   * Queues strings (sent as UTF-8) and bytes (any `ArrayBufferView`) for the child's stdin,
   * in order; {@link EOF} closes stdin once everything before it is written. Never blocks: the
   * bytes are sent while the child reads them. If the child exits or closes its stdin first,
   * what it did not read is dropped (no EPIPE error, the exit status still comes). Throws when
   * stdin is not piped (`ERR_INVALID_STATE`) and after `EOF` (`ERR_STREAM_WRITE_AFTER_END`).
   */
  write(...chunks: WriteChunk[]): void {
    const native = this.#open();
    if (!this.#stdinPiped) {
      throw withCode(
        new Error('Invalid state: stdin is not piped (spawn with { stdin: true })'),
        'ERR_INVALID_STATE',
      );
    }
    const queued: (string | Uint8Array | typeof EOF)[] = [];
    let ended = this.#ended;
    for (const [i, chunk] of chunks.entries()) {
      if (ended) throw withCode(new Error('write after end'), 'ERR_STREAM_WRITE_AFTER_END');
      if (chunk === EOF) {
        ended = true;
        queued.push(EOF);
      } else if (typeof chunk === 'string') {
        queued.push(chunk);
      } else if (ArrayBuffer.isView(chunk)) {
        queued.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } else {
        throw invalidArgType(
          `chunks[${i}]`,
          'of type string or an instance of ArrayBufferView or EOF',
          chunk,
        );
      }
    }
    for (const chunk of queued) {
      if (chunk === EOF) native.end();
      else native.write(chunk);
    }
    this.#ended = ended;
  }

  /**
   * Sends a signal to the child, or with `group: true` to its whole process group:
   * `'term'` (default) and `'kill'` as in LuaIPC, any other name with or without `SIG`
   * (`'int'`, `'SIGUSR1'`), or a number. Does nothing once the child has been reaped. With
   * `group: true` the exited child is held unreaped until {@link close}, so the group is still
   * signalled (its other members may live on) and its id can't have passed to another group.
   */
  kill(signal: string | number = 'term'): void {
    const n = signalNumber(signal);
    this.#open().kill(n);
  }

  /**
   * Resolves with the exit triple (see {@link ExitResult}) once the child has exited and its
   * output has reached the callback, without blocking the event loop. A second call gives the
   * same result. Rejects with `options.signal.reason` when aborted (the child keeps running),
   * with `IpcError` `ECANCELED` when the handle is closed meanwhile. A pending `wait()` keeps
   * the process alive even after {@link unref}.
   */
  wait(options?: ProcessWaitOptions): Promise<ExitResult> {
    try {
      const signal = checkSignal(checkOptions(options).signal);
      this.#open();
      if (this.#settled) {
        return this.#result ? Promise.resolve([...this.#result]) : Promise.reject(this.#error);
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<ExitResult>((resolve, reject) => {
        // One listener on the signal however many waits share it (no MaxListenersExceededWarning).
        const forget = signal
          ? onAbort(signal, () => {
              if (!this.#pending.delete(pending)) return;
              this.#updateKeep();
              reject(signal.reason);
            })
          : undefined;
        const pending: Pending = {
          resolve: (result) => {
            forget?.();
            resolve(result);
          },
          reject: (error) => {
            forget?.();
            reject(error);
          },
        };
        this.#pending.add(pending);
        this.#updateKeep();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Blocks this thread running the child's I/O loop (what LuaIPC's `h:wait()` does): queued
   * stdin is sent and the callback is called, from inside this call, as output arrives, until
   * the child exits. Returns the exit triple; a second call gives the same. A callback that
   * throws ends the call with its exception (call again to go on). In a worker, `terminate()`
   * (or the process exiting) ends the wait within 100 ms.
   */
  waitSync(): ExitResult {
    const native = this.#open();
    if (!this.#settled) native.waitSync();
    if (this.#result) return [...this.#result];
    throw this.#error;
  }

  /** Lets this process exit while the child runs (a pending `wait()` still keeps it alive). */
  unref(): void {
    this.#userRef = false;
    this.#updateKeep();
  }

  /** Undoes {@link unref}: a running child keeps this process alive (the default). */
  ref(): void {
    this.#userRef = true;
    this.#updateKeep();
  }

  /**
   * Stops listening to the child: our ends of its pipes are closed (it reads EOF on stdin, and
   * writing to stdout gets EPIPE), pending `wait()`s reject with `IpcError` `ECANCELED`. The
   * child is not killed; when it ends it is reaped in the background (an exited `group: true`
   * child, held for {@link kill}, is reaped now). Idempotent.
   */
  close(): void {
    if (this.#native.closed) return;
    this.#native.close();
    this.#keep = false;
    const error = new IpcError('ECANCELED', 'wait');
    for (const pending of this.#pending) pending.reject(error);
    this.#pending.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Starts `cmd`: a string runs through `/bin/sh -c` (as LuaIPC, `os.execute` and `io.popen`
 * do), an array `[program, ...args]` runs without a shell (the program is looked up in `PATH`
 * when it has no `/`; a missing one throws `IpcError` `ENOENT` here, not a later exit status;
 * an executable script without `#!` runs with `/bin/sh`, as `execvp` does).
 * See {@link SpawnOptions}.
 */
export function spawn<E extends Encoding = 'utf8'>(
  cmd: string | readonly string[],
  options?: SpawnOptions<E>,
): Process {
  return new Process(CONSTRUCT, prepare(cmd, options));
}
