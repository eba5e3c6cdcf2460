export declare const SUITE: string;
export declare function cacheDir(): string;
export declare function rootDir(): string;
export declare function debianMirror(): string;
export declare function prepareOldLinux(options?: {
  log?: (message: string) => void;
}): Promise<{ root?: string; skip?: string }>;
export declare function runInRoot(
  root: string,
  options: {
    argv: string[];
    binds?: [string, string, string?][];
    cwd?: string;
    env?: Record<string, string>;
    timeout?: number;
  },
): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };
export declare function symbolHomes(root: string): Map<string, string>;
