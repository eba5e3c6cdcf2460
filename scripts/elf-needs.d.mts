export declare const FLOOR: { GLIBC: number[]; GLIBCXX: number[] };
export declare function parseVersion(version: string): number[];
export declare function newer(a: number[], b: number[]): boolean;
export declare function aboveFloor(version: string): boolean;
export declare function versionNeeds(
  file: string,
  objdump?: string,
): { symbol: string; version: string }[];
