/** The longest delay setTimeout takes (a larger one fires at once, with a warning). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `fn` once `seconds` have passed, however long that is (a wait's timeout: setTimeout alone
 * would fire a timeout of a month at once). Returns what cancels it.
 */
export function after(seconds: number, fn: () => void): () => void {
  const deadline = performance.now() + seconds * 1000;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - performance.now();
    timer = left > MAX_DELAY ? setTimeout(arm, MAX_DELAY) : setTimeout(fn, Math.max(left, 0));
  };
  arm();
  return () => clearTimeout(timer);
}
