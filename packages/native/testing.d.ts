/** A name unique to this test process (at most 30 bytes), removed by {@link cleanupNames}. */
export declare function uniqueName(tag?: string): string;
/** The file the OS keeps for a shm segment or semaphore (Linux), else undefined. */
export declare function objectPath(kind: 'shm' | 'sem', name: string): string | undefined;
/** Whether the shm segment or semaphore `name` exists. */
export declare function objectExists(kind: 'shm' | 'sem', name: string): boolean;
/** Removes every object made under names from {@link uniqueName}; call from `afterEach`. */
export declare function cleanupNames(): void;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The child was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
}
export interface ChildOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}
/** Runs a real child process and collects its output, exit code and signal. */
export declare function runChild(
  command: string,
  args?: string[],
  options?: ChildOptions,
): Promise<ChildResult>;
/** A child process a test follows while it runs (see {@link startChild}). */
export interface StartedChild {
  readonly pid: number;
  /** Resolves when the process exits. */
  done: Promise<ChildResult>;
  /** The first stdout line containing `marker`; rejects if the process exits before. */
  line(marker: string): Promise<string>;
  /** Writes to its stdin. */
  write(text: string): void;
  /** Signals it (SIGKILL by default). */
  kill(signal?: NodeJS.Signals): void;
}
/**
 * Starts a real child process that the test follows line by line while it runs; killed with
 * SIGKILL after `timeoutMs`.
 */
export declare function startChild(
  command: string,
  args?: string[],
  options?: Pick<ChildOptions, 'timeoutMs' | 'env'>,
): StartedChild;
/** {@link runChild} for `node [nodeArgs] script ...args`. */
export declare function runNode(
  script: string,
  args?: string[],
  options?: ChildOptions & { nodeArgs?: string[] },
): Promise<ChildResult>;
/** Node's own ERR_INVALID_ARG_TYPE message for `name` expected `expected` but given `value`. */
export declare function nodeArgTypeMessage(name: string, expected: string, value: unknown): string;
/**
 * The " Received ..." tail (with its leading space) Node gives in ERR_INVALID_ARG_VALUE for
 * `value`, from a check of Node's own.
 */
export declare function nodeArgValueReceived(value: unknown): string;
/**
 * The " Received ..." tail (with its leading space) Node gives in ERR_OUT_OF_RANGE for the number
 * `value`, from a check of Node's own.
 */
export declare function nodeRangeReceived(value: number): string;
