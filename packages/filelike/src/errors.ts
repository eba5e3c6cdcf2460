import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** Extra fields of an {@link IpcError}: the file path or the IPC object name involved. */
export interface IpcErrorDetails {
  /** A filesystem path (mmap, filelock). */
  path?: string;
  /** The name of a shared memory segment or semaphore. */
  name?: string;
  /** Overrides the standard description of `code` (e.g. Lua's "permission denied"). */
  description?: string;
}

const BRAND = Symbol.for('@luaipc/IpcError');
const errnoByCode = constants.errno as Readonly<Record<string, number>>;

/** libuv's descriptions, keyed by code ('ENOENT' -> 'no such file or directory'). */
let descriptions: Map<string, string> | undefined;
function describe(code: string): string {
  if (!descriptions) {
    descriptions = new Map();
    for (const [name, text] of getSystemErrorMap().values()) descriptions.set(name, text);
  }
  return descriptions.get(code) ?? 'unknown error';
}

/**
 * An operating-system failure, shaped like the errors of `node:fs`:
 * `code` ('EEXIST'), `errno` (negative, as in Node: -17), `syscall` ('shm_open'), `path` or `name`,
 * and a message like `EEXIST: file exists, shm_open 'name'`.
 *
 * Programmer errors (bad arguments, use after close) are `TypeError`/`RangeError` instead, and
 * "nothing there" (EOF, a timed-out wait, a failed trylock) is a return value, never an error.
 */
export class IpcError extends Error {
  /** The POSIX error name, e.g. `'ENOENT'`. */
  readonly code: string;
  /** Node's negative error number for `code` (e.g. `-2` for ENOENT), as on `fs` errors. */
  readonly errno: number;
  /** The operation that failed, e.g. `'shm_open'`, `'sem_wait'`, `'write'`. */
  readonly syscall: string;
  /** The file involved, for mmap and filelock errors. */
  declare readonly path?: string;
  /**
   * For shm and sem errors, the object's name (as DESIGN.md asks: `path`/`name` where one
   * applies); otherwise `'IpcError'`, inherited from the prototype. The stack trace always starts
   * with `IpcError:` because it is captured before the own property is set.
   */
  declare name: string;

  constructor(code: string, syscall: string, details: IpcErrorDetails = {}) {
    const subject = details.path ?? details.name;
    const where = subject === undefined ? syscall : `${syscall} '${subject}'`;
    super(`${code}: ${details.description ?? describe(code)}, ${where}`);
    this.code = code;
    const positive = errnoByCode[code];
    this.errno = positive === undefined ? 0 : -positive;
    this.syscall = syscall;
    Object.defineProperty(this, BRAND, { value: true });
    if (details.path !== undefined)
      Object.defineProperty(this, 'path', { value: details.path, enumerable: true });
    if (details.name !== undefined) {
      // V8 formats the stack header lazily from `name`; format it now, while it is 'IpcError'.
      void this.stack;
      this.name = details.name;
    }
  }

  /**
   * Builds the error for an OS error number as a native layer reports it (positive on POSIX,
   * as errno is; Node's negative numbers are accepted too).
   */
  /**
   * `instanceof` works across copies of this class: the ESM and CommonJS builds of this package,
   * or two installed versions, recognise each other's errors.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  static fromErrno(errno: number, syscall: string, details: IpcErrorDetails = {}): IpcError {
    const code = codeOf(errno);
    return new IpcError(code, syscall, details);
  }
}

Object.defineProperty(IpcError.prototype, 'name', {
  value: 'IpcError',
  writable: true,
  configurable: true,
});

function codeOf(errno: number): string {
  const positive = Math.abs(errno);
  for (const [code, value] of Object.entries(errnoByCode)) if (value === positive) return code;
  return `E${positive}`;
}
