export {
  ContextTooLargeError,
  MAX_CONTEXT_BYTES,
  currentContext,
  withContext,
  type ContextValue,
  type RetraceContext,
} from "./context.js";
export { CONTEXT_PREFIX, instrument, type InstrumentOptions } from "./pg.js";
export { instrumentDrizzle } from "./drizzle.js";
export { isWrite, type StatementFilter } from "./statements.js";
