// k6/execution for tests (see runtime.ts).
import { execution } from './runtime.js';

export default {
  scenario: { get iterationInTest() { return execution.iterationInTest; } },
  vu: { get idInTest() { return execution.vuIdInTest; } },
};
