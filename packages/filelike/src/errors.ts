import { constants } from 'node:os';
import { getSystemErrorMap, inspect } from 'node:util';

/** Extra fields of an {@link IpcError}. */
export interface IpcErrorDetails {
  /** The file path, or the shm/sem name as the user gave it. */
  path?: string;
  /** Overrides the standard description of `code` (e.g. Lua's "permission denied"). */
  description?: string;
}

const BRAND = Symbol.for('@luaipc/IpcError');
const errnoByCode = constants.errno as Readonly<Record<string, number>>;

/**
 * Codes our addons report that the libuv of older Node versions has no description for, worded
 * as newer libuv (ENOEXEC) and the C library say.
 */
const MISSING_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ENOEXEC: 'exec format error',
  ECHILD: 'no child processes',
};

/** libuv's descriptions, keyed by code ('ENOENT' -> 'no such file or directory'). */
let descriptions: Map<string, string> | undefined;
function describe(code: string): string {
  if (!descriptions) {
    descriptions = new Map(Object.entries(MISSING_DESCRIPTIONS));
    for (const [name, text] of getSystemErrorMap().values()) descriptions.set(name, text);
  }
  return descriptions.get(code) ?? 'unknown error';
}

/**
 * An operating-system failure, shaped like the errors of `node:fs`: `name` `'IpcError'`,
 * `code` ('EEXIST'), `errno` (negative, as in Node: -17), `syscall` ('shm_open'), `path` (the
 * file, or the shm/sem name as given), and a message like
 * `EEXIST: file already exists, shm_open 'jobs'`.
 *
 * Programmer errors (bad arguments) are `TypeError`/`RangeError`, use after close an `Error`
 * with code `ERR_IPC_CLOSED`, and "nothing there" (EOF, a timed-out wait, a failed trylock) is
 * a return value, never an error.
 */
export class IpcError extends Error {
  /** The POSIX error name, e.g. `'ENOENT'`. */
  readonly code: string;
  /** Node's negative error number for `code` (e.g. `-2` for ENOENT), as on `fs` errors. */
  readonly errno: number;
  /** The operation that failed, e.g. `'shm_open'`, `'sem_wait'`, `'write'`. */
  readonly syscall: string;
  /** The file involved, or the shm/sem name as the user gave it. */
  declare readonly path?: string;

  constructor(code: string, syscall: string, details: IpcErrorDetails = {}) {
    const where = details.path === undefined ? syscall : `${syscall} '${details.path}'`;
    super(`${code}: ${details.description ?? describe(code)}, ${where}`);
    this.code = code;
    const positive = errnoByCode[code];
    this.errno = positive === undefined ? 0 : -positive;
    this.syscall = syscall;
    Object.defineProperty(this, BRAND, { value: true });
    if (details.path !== undefined)
      Object.defineProperty(this, 'path', { value: details.path, enumerable: true });
  }

  /**
   * `instanceof` works across copies of this class: the ESM and CommonJS builds of this package,
   * or two installed versions, recognise each other's errors.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  /**
   * Builds the error for an OS error number as a native layer reports it (positive on POSIX,
   * as errno is; Node's negative numbers are accepted too).
   */
  static fromErrno(errno: number, syscall: string, details: IpcErrorDetails = {}): IpcError {
    return new IpcError(codeOf(errno), syscall, details);
  }
}

Object.defineProperty(IpcError.prototype, 'name', {
  value: 'IpcError',
  writable: true,
  configurable: true,
});

/**
 * The one error every `@luaipc` handle throws when used after `close()`: a plain `Error` with
 * code `ERR_IPC_CLOSED` and the message `attempt to use a closed <what>` (Lua's wording for
 * files).
 */
export function closedError(what = 'file'): Error & { code: 'ERR_IPC_CLOSED' } {
  return withCode(new Error(`attempt to use a closed ${what}`), 'ERR_IPC_CLOSED');
}

/** Node's `Received ...` tail for a wrong value (with its leading space), as in its own errors. */
export function describeValue(value: unknown): string {
  return ` Received ${specificType(value)}`;
}

/** Node's own description of a value in argument errors (internal/errors determineSpecificType). */
function specificType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'boolean':
    case 'symbol':
      return `type ${typeof value} (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && 'name' in ctor) return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    default: {
      let text = String(value);
      if (text.length > 28) text = `${text.slice(0, 25)}...`;
      return text.includes("'")
        ? `type string (${JSON.stringify(text)})`
        : `type string ('${text}')`;
    }
  }
}

/** `error` with Node's enumerable `code` property. */
export function withCode<E extends Error, C extends string>(error: E, code: C): E & { code: C } {
  Object.defineProperty(error, 'code', {
    value: code,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return error as E & { code: C };
}

/** The kinds of Lua argument error, each with the Node code of its kind. */
const luaArgKinds = {
  type: [TypeError, 'ERR_INVALID_ARG_TYPE'],
  value: [TypeError, 'ERR_INVALID_ARG_VALUE'],
  range: [RangeError, 'ERR_OUT_OF_RANGE'],
} as const;

/**
 * An argument error of a Lua file method, worded as Lua 5.4 words it (`bad argument #1 to 'read'
 * (invalid format)`, so messages match the real interpreter's), with Node's code for its kind:
 * a wrong type, a bad value of the right type, or a number out of range.
 */
export function luaArgError(
  kind: keyof typeof luaArgKinds,
  index: number,
  fn: string,
  reason: string,
): (TypeError | RangeError) & { code: string } {
  const [Class, code] = luaArgKinds[kind];
  return withCode(new Class(`bad argument #${index} to '${fn}' (${reason})`), code);
}

const kind = (name: string): string => (name.includes('.') ? 'property' : 'argument');

/** Node's `ERR_INVALID_ARG_TYPE`; `expected` reads like `of type string`. */
export function invalidArgType(
  name: string,
  expected: string,
  value: unknown,
): TypeError & { code: 'ERR_INVALID_ARG_TYPE' } {
  return withCode(
    new TypeError(`The "${name}" ${kind(name)} must be ${expected}.${describeValue(value)}`),
    'ERR_INVALID_ARG_TYPE',
  );
}

/** Node's `ERR_INVALID_ARG_VALUE`; `reason` reads like `must not be empty`. */
export function invalidArgValue(
  name: string,
  value: unknown,
  reason = 'is invalid',
): TypeError & { code: 'ERR_INVALID_ARG_VALUE' } {
  // As Node shows the value (internal/errors): inspected, cut at 128 characters.
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return withCode(
    new TypeError(`The ${kind(name)} '${name}' ${reason}. Received ${shown}`),
    'ERR_INVALID_ARG_VALUE',
  );
}

/**
 * Node's `ERR_ILLEGAL_CONSTRUCTOR`, for handle classes user code must not construct:
 * `Illegal constructor: <how handles are made>`.
 */
export function illegalConstructor(how: string): TypeError & { code: 'ERR_ILLEGAL_CONSTRUCTOR' } {
  return withCode(new TypeError(`Illegal constructor: ${how}`), 'ERR_ILLEGAL_CONSTRUCTOR');
}

/** Node's `ERR_OUT_OF_RANGE`; `range` reads like `an integer >= 0 and <= 9`. */
export function outOfRange(
  name: string,
  range: string,
  value: unknown,
): RangeError & { code: 'ERR_OUT_OF_RANGE' } {
  return withCode(
    new RangeError(
      `The value of "${name}" is out of range. It must be ${range}. Received ${rangeReceived(value)}`,
    ),
    'ERR_OUT_OF_RANGE',
  );
}

/** How Node's ERR_OUT_OF_RANGE shows the value: integers beyond 2^32 with `_` separators. */
function rangeReceived(value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    return separated(String(value));
  }
  if (typeof value === 'bigint') {
    const text = String(value);
    return `${value > 2n ** 32n || value < -(2n ** 32n) ? separated(text) : text}n`;
  }
  return inspect(value);
}

/** `1234567` as `1_234_567` (internal/errors addNumericalSeparator). */
function separated(digits: string): string {
  let out = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

function codeOf(errno: number): string {
  const positive = Math.abs(errno);
  for (const [code, value] of Object.entries(errnoByCode)) if (value === positive) return code;
  return `E${positive}`;
}
