// Types of the vendored k6-summary module (k6-summary.js beside this file).
export function textSummary(data: unknown, options?: { indent?: string; enableColors?: boolean }): string;
export function jUnit(data: unknown, options?: { name?: string; classname?: string }): string;
export function humanizeValue(val: number, metric: unknown, timeUnit?: string): string;
