// k6/data for tests (see runtime.ts): SharedArray is built once from its callback, read-only.
export class SharedArray<T> {
  constructor(_name: string, make: () => T[]) {
    return Object.freeze(make()) as unknown as SharedArray<T>;
  }
}
