import { Buffer } from "buffer";

// The core's hex and event-tree helpers use Node's Buffer; in the browser the `buffer` package stands in.
// Imported first by main.ts, so it is in place before any check runs.
(globalThis as { Buffer?: unknown }).Buffer ??= Buffer;
