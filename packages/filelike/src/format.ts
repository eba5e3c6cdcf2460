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

/** C's `printf("%.14g", x)`. */
export function formatG14(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential(13).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 14) {
    const digits = stripZeros(mantissa);
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${digits}e${sign}${abs < 10 ? '0' : ''}${abs}`;
  }
  return stripZeros(x.toFixed(13 - exp));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
