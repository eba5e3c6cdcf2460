/**
 * Lua 5.4's `read('n')`, step for step: liolib.c's `read_number` decides how many bytes a read
 * consumes, lobject.c's `luaO_str2num` decides what they mean.
 */
import type { ByteStore } from './store.js';

/** liolib.c L_MAXLENNUM: a numeral longer than this fails to read. */
const MAX_NUMERAL = 200;

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHexDigit = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

export interface NumberRead {
  /** The number, or null when the bytes read were no numeral. */
  value: number | null;
  /** Position after the read: Lua consumes what it scanned even when the numeral is invalid. */
  pos: number;
}

/** Scans a numeral at `pos` the way Lua's reader does, with one character of look-ahead. */
export function readNumber(store: ByteStore, pos: number, end: number): NumberRead {
  let p = pos;
  let text = '';
  let overflow = false;
  const current = () => (p < end ? store.at(p) : -1);
  // nextc(): keep the look-ahead character and advance, or fail once the buffer is full.
  const take = () => {
    if (text.length >= MAX_NUMERAL) {
      overflow = true;
      return false;
    }
    text += String.fromCharCode(store.at(p));
    p++;
    return true;
  };
  const test2 = (a: number, b: number) => {
    const c = current();
    return (c === a || c === b) && take();
  };
  const digits = (hex: boolean) => {
    let n = 0;
    for (let c = current(); (hex ? isHexDigit(c) : isDigit(c)) && take(); c = current()) n++;
    return n;
  };

  while (isSpace(current())) p++;
  let count = 0;
  let hex = false;
  test2(45, 43); // '-' '+'
  if (test2(48, 48)) {
    // '0'
    if (test2(120, 88))
      hex = true; // 'x' 'X'
    else count = 1;
  }
  count += digits(hex);
  if (test2(46, 46)) count += digits(hex); // '.'
  if (count > 0 && (hex ? test2(112, 80) : test2(101, 69))) {
    // 'p' 'P' / 'e' 'E'
    test2(45, 43);
    digits(false);
  }
  return { value: overflow ? null : stringToNumber(text), pos: p };
}

/**
 * `lua_stringtonumber` for the characters `readNumber` can collect: an integer numeral when it
 * fits (decimal must not overflow; hex wraps around modulo 2^64), else a float as `strtod` reads it.
 */
export function stringToNumber(s: string): number | null {
  const int = stringToInteger(s);
  if (int !== null) return int;
  return stringToFloat(s);
}

const MAX_INT64 = (1n << 63n) - 1n;

function stringToInteger(s: string): number | null {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))$/.exec(s);
  if (!m) return null;
  const negative = m[1] === '-';
  let value: bigint;
  if (m[2] !== undefined) {
    value = BigInt.asUintN(64, BigInt(`0x${m[2]}`));
  } else {
    value = BigInt(m[3] as string);
    // Decimal overflow makes it a float numeral (l_str2int refuses it).
    if (value > MAX_INT64 + (negative ? 1n : 0n)) return null;
  }
  // Integer arithmetic: 0 - a wraps, and -0 is plain 0.
  const signed = BigInt.asIntN(64, negative ? -value : value);
  return signed === 0n ? 0 : Number(signed);
}

function stringToFloat(s: string): number | null {
  if (/^[+-]?0[xX]/.test(s)) return hexFloat(s);
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return null;
  return Number(s);
}

/** C99 strtod for hexadecimal numerals, correctly rounded (subnormals included). */
function hexFloat(s: string): number | null {
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(s);
  if (!m) return null;
  const whole = m[2] ?? '';
  const fraction = m[3] ?? '';
  if (whole.length + fraction.length === 0) return null;
  const sign = m[1] === '-' ? -1 : 1;
  let mantissa = BigInt(`0x${whole}${fraction}`);
  if (mantissa === 0n) return sign * 0;
  // Exponents beyond any double are clamped; the result saturates to 0 or Infinity either way.
  const written = m[4] === undefined ? 0 : Math.max(-1e6, Math.min(1e6, Number(m[4])));
  let exp = written - 4 * fraction.length;
  // Keep 64 significant bits plus a sticky bit, so one final rounding decides the result.
  const bits = mantissa.toString(2).length;
  if (bits > 64) {
    const drop = BigInt(bits - 64);
    const sticky = mantissa & ((1n << drop) - 1n) ? 1n : 0n;
    mantissa = (mantissa >> drop) | sticky;
    exp += bits - 64;
  }
  const top = exp + Math.min(bits, 64); // value lies in [2^(top-1), 2^top)
  if (top > 1024) return sign * Infinity;
  if (top - 1 < -1022) {
    // Subnormal: round the mantissa to a multiple of 2^-1074 once, here.
    const shift = -1074 - exp;
    if (shift > 0) {
      if (shift > 70) return sign * 0;
      const s = BigInt(shift);
      const half = 1n << (s - 1n);
      const rest = mantissa & ((1n << s) - 1n);
      let q = mantissa >> s;
      if (rest > half || (rest === half && q & 1n)) q += 1n;
      return sign * Number(q) * 2 ** -1074;
    }
  }
  // Number(bigint) rounds to 53 bits (ties to even); scaling by a power of two is then exact.
  return sign * scale(Number(mantissa), exp);
}

/** x * 2^exp without intermediate overflow or underflow of 2 ** exp itself. */
function scale(x: number, exp: number): number {
  let result = x;
  let e = exp;
  while (e > 1000) {
    result *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    result *= 2 ** -1000;
    e += 1000;
  }
  return result * 2 ** e;
}
