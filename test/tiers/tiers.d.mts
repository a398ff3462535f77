// Types of tiers.mjs (plain JavaScript so that node runs it without a build).
export declare const UNIT: string[];
export declare const SLOW: string[];
export declare function allTestFiles(root?: string): string[];
export declare function tierFiles(tier: string, root?: string): string[];
