// Argument checks shared by the @luaipc native packages, so that every package words its
// errors the same way (in the style of Node's own ERR_INVALID_ARG_TYPE messages).

/** How a wrong value is shown in messages. */
function describeValue(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return `type string ('${value}')`;
  if (typeof value === 'function') return 'function';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `type ${typeof value} (${String(value)})`;
}

/**
 * Checks a LuaIPC object name (shm, sem): a non-empty string without '/' or NUL, at most
 * `nameMax` bytes (else `IpcError` ENAMETOOLONG for `syscall`). Returns the name.
 */
function checkName(name, syscall, nameMax, IpcError) {
  if (typeof name !== 'string') {
    throw new TypeError(
      `The "name" argument must be of type string. Received ${describeValue(name)}`,
    );
  }
  if (name.length === 0) throw new RangeError('The "name" argument must not be empty');
  if (name.includes('/')) {
    throw new RangeError(`The "name" argument must not contain '/'. Received '${name}'`);
  }
  if (name.includes('\0')) {
    throw new RangeError('The "name" argument must not contain null bytes');
  }
  if (Buffer.byteLength(name) > nameMax) throw new IpcError('ENAMETOOLONG', syscall, { name });
  return name;
}

exports.describeValue = describeValue;
exports.checkName = checkName;
