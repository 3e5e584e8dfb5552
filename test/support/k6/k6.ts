// The k6 module for tests (see runtime.ts).
export { check } from './runtime.js';
export function sleep(_seconds: number): void {}
