// Argument checks shared by the @luaipc native packages. Every package validates in TypeScript
// with these, once, before the addon is called; the addon only converts values. Errors are
// Node's (classes, codes and wording), built by @luaipc/filelike's error module.

const { IpcError, invalidArgType, invalidArgValue, outOfRange } = require('@luaipc/filelike');

/**
 * Checks a LuaIPC object name (shm, sem): a non-empty string without '/' or NUL, at most
 * `nameMax` bytes (else `IpcError` ENAMETOOLONG for `syscall`, with the name in `path`).
 * Returns the name.
 */
function checkName(name, syscall, nameMax) {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (name.length === 0) throw invalidArgValue('name', name, 'must not be empty');
  if (name.includes('/')) throw invalidArgValue('name', name, "must not contain '/'");
  if (name.includes('\0')) throw invalidArgValue('name', name, 'must not contain null bytes');
  if (name === '.' || name === '..') throw invalidArgValue('name', name, "must not be '.' or '..'");
  if (Buffer.byteLength(name) > nameMax)
    throw new IpcError('ENAMETOOLONG', syscall, { path: name });
  return name;
}

/** An integer in [min, max] (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE otherwise). */
function checkInteger(value, name, min, max) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

const MAX_FD = 2 ** 31 - 1;

/**
 * A file descriptor: a number, or an object whose `fd` is a number (a `FileHandle` of
 * `fs.promises`), each an integer in [0, 2^31 - 1] as Node checks descriptors
 * (ERR_OUT_OF_RANGE naming `name`, or `name.fd` for the object's). A closed FileHandle (its `fd`
 * is -1) is `IpcError` EBADF for `syscall`. Anything else is ERR_INVALID_ARG_TYPE. Returns the
 * descriptor.
 */
function checkFd(value, name, syscall) {
  if (typeof value === 'number') return checkInteger(value, name, 0, MAX_FD);
  if (typeof value === 'object' && value !== null && typeof value.fd === 'number') {
    if (value.fd === -1) throw new IpcError('EBADF', syscall);
    return checkInteger(value.fd, `${name}.fd`, 0, MAX_FD);
  }
  throw invalidArgType(name, 'of type number or an instance of FileHandle', value);
}

/**
 * A timeout in seconds (fractions allowed): `undefined`, negative or `Infinity` wait forever
 * (-1), `0` only tries. Returns seconds, or -1.
 */
function checkTimeout(timeout, name = 'timeout') {
  if (timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw invalidArgType(name, 'of type number', timeout);
  if (Number.isNaN(timeout)) throw outOfRange(name, 'a number of seconds', timeout);
  if (timeout < 0 || timeout === Number.POSITIVE_INFINITY) return -1;
  return timeout;
}

/** An optional AbortSignal (ERR_INVALID_ARG_TYPE otherwise). */
function checkSignal(signal, name = 'options.signal') {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw invalidArgType(name, 'an instance of AbortSignal', signal);
  }
  return signal;
}

/** An options object or undefined. */
function checkOptions(options, name = 'options') {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw invalidArgType(name, 'of type object', options);
  }
  return options;
}

/**
 * The arguments of every Promise-form wait: `(timeout?, options?)` or `(options)` with
 * `{ timeout?, signal? }`. Returns `{ timeout, signal }` with timeout in seconds or -1.
 */
function waitArgs(timeoutOrOptions, maybeOptions) {
  let options;
  let timeout;
  if (timeoutOrOptions !== null && typeof timeoutOrOptions === 'object') {
    if (maybeOptions !== undefined)
      throw invalidArgType('timeout', 'of type number', timeoutOrOptions);
    options = timeoutOrOptions;
    timeout = checkTimeout(options.timeout, 'options.timeout');
  } else {
    options = checkOptions(maybeOptions);
    if (timeoutOrOptions === undefined) {
      timeout = checkTimeout(options.timeout, 'options.timeout');
    } else {
      timeout = checkTimeout(timeoutOrOptions);
      if (options.timeout !== undefined) {
        throw invalidArgValue(
          'options.timeout',
          options.timeout,
          'must not be given with a timeout argument',
        );
      }
    }
  }
  return { timeout, signal: checkSignal(options.signal) };
}

/** A size in bytes: an integer in [min, max]. */
function checkSize(size, max, min = 1, name = 'size') {
  return checkInteger(size, name, min, max);
}

exports.checkName = checkName;
exports.checkInteger = checkInteger;
exports.checkFd = checkFd;
exports.checkTimeout = checkTimeout;
exports.checkSignal = checkSignal;
exports.checkOptions = checkOptions;
exports.waitArgs = waitArgs;
exports.checkSize = checkSize;
