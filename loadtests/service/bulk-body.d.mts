// Types of bulk-body.mjs (plain JavaScript, so worker threads load it without a TypeScript loader).
export declare const FLOAT32_MAX: number;
export declare class BodyRefused extends Error {}
export declare function vectorText(v: unknown[], what: string): string;
export interface ParsedBulkBody {
  /** PostgreSQL's array literal of the vectors' text forms. */
  literal: string;
  count: number;
  firstChunk: number;
}
export declare function parseBulkBody(text: string, dim: number, maxFirstChunk: number): ParsedBulkBody;
