/**
 * How Lua's `file:write` prints a number: integers with `%d`, floats with `%.14g`
 * (liolib.c g_write uses LUA_NUMBER_FMT directly, so 3.0 is written as "3", not "3.0").
 * A JS number counts as an integer when it is a safe integer; bigint is always an integer.
 */
export function formatNumber(x: number | bigint): string {
  if (typeof x === 'bigint') return x.toString();
  if (Number.isSafeInteger(x) && !Object.is(x, -0)) return String(x);
  return formatG14(x);
}

/**
 * C's `printf("%.14g", x)`. `toExponential` rounds an exact tie away from zero, glibc's printf
 * to even (12345678901234.5 prints "12345678901234"), so ties are detected and rounded here.
 */
export function formatG14(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential(13).split('e') as [string, string];
  const exp = Number(expText);
  let digits = mantissa.replace(/^-/, '').replace('.', '');
  const last = digits.charCodeAt(13) - 48;
  // A rounded-up tie ends in an odd digit only when the even neighbour below was skipped.
  if (last % 2 === 1 && isTieBelow(Math.abs(x), BigInt(digits), exp - 13)) {
    digits = (BigInt(digits) - 1n).toString();
  }
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 14) {
    const abs = Math.abs(exp);
    const fraction = stripZeros(`.${digits.slice(1)}`);
    return `${sign}${digits[0]}${fraction}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  // Fixed notation with 13 - exp decimals, cut from the same 14 digits.
  const padded = exp < 0 ? '0'.repeat(-exp) + digits : digits;
  const point = exp < 0 ? 1 : exp + 1;
  return `${sign}${padded.slice(0, point)}${stripZeros(`.${padded.slice(point)}`)}`;
}

/** Whether `ax` (positive, finite) is exactly `(n - 1/2) * 10^k`. */
function isTieBelow(ax: number, n: bigint, k: number): boolean {
  // ax = m * 2^e exactly; compare m * 2^(e+1) with (2n - 1) * 10^k in integers.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, ax);
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const m = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = (biased === 0 ? -1074 : biased - 1075) + 1;
  let left = e >= 0 ? m << BigInt(e) : m;
  let right = e >= 0 ? 2n * n - 1n : (2n * n - 1n) << BigInt(-e);
  if (k >= 0) right *= 10n ** BigInt(k);
  else left *= 10n ** BigInt(-k);
  return left === right;
}

/** Drops trailing zeros of a fraction (`.500` -> `.5`) and a bare `.`. */
function stripZeros(fraction: string): string {
  return fraction.replace(/\.?0+$/, '').replace(/^\.$/, '');
}
