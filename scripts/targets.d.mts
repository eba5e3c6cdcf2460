export declare const root: string;
export declare const TARGETS: {
  tag: string;
  os: string;
  cpu: string;
  libc?: string;
  title: string;
}[];
export declare function nativePackages(): string[];
export declare function platformPackageDir(name: string, tag: string): string;
