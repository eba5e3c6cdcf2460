// Node's own wording of its argument errors, taken from checks of Node's own, so tests of our
// argument errors compare against Node rather than against a copy of our formatting.
import { setDefaultResultOrder } from 'node:dns';
import { join } from 'node:path';
import { createDeflateRaw } from 'node:zlib';

/** The " Received ..." tail of `fn`'s error with this code, or undefined if it threw none. */
function receivedTail(
  code: string,
  fn: () => unknown,
  head = /^.*? Received /s,
): string | undefined {
  try {
    fn();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === code) return e.message.replace(head, ' Received ');
  }
  return undefined;
}

/**
 * The message Node itself gives in ERR_INVALID_ARG_TYPE for `name` (an argument, or a property
 * when it has a dot) expected to be `expected` but given `value`: Node's wording of the value
 * comes from path.join, or Buffer.alloc for strings.
 */
export function nodeArgTypeMessage(name: string, expected: string, value: unknown): string {
  const received = receivedTail(
    'ERR_INVALID_ARG_TYPE',
    () =>
      typeof value === 'string' ? Buffer.alloc(value as unknown as number) : join(value as string),
    /^.* Received /,
  );
  if (received === undefined) throw new Error('Node accepted the value');
  const kind = name.includes('.') ? 'property' : 'argument';
  return `The "${name}" ${kind} must be ${expected}.${received}`;
}

/**
 * The " Received ..." tail (with its leading space) Node gives in ERR_INVALID_ARG_VALUE for
 * `value` (util.inspect, cut at 128 characters), from dns.setDefaultResultOrder's check.
 */
export function nodeArgValueReceived(value: unknown): string {
  const received = receivedTail('ERR_INVALID_ARG_VALUE', () =>
    setDefaultResultOrder(value as 'verbatim'),
  );
  if (received === undefined) throw new Error('Node accepted the value');
  return received;
}

/**
 * The " Received ..." tail (with its leading space) Node gives in ERR_OUT_OF_RANGE for the number
 * `value`, from Buffer#readUInt8's offset check, or zlib's windowBits for 0.
 */
export function nodeRangeReceived(value: number): string {
  const received =
    receivedTail('ERR_OUT_OF_RANGE', () => Buffer.alloc(1).readUInt8(value)) ??
    receivedTail('ERR_OUT_OF_RANGE', () => createDeflateRaw({ windowBits: value }));
  if (received === undefined) throw new Error('Node accepted the value');
  return received;
}
