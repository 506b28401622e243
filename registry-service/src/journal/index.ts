// Persistence only: the Journal interface, its drivers, the entries' binary format, where a journal
// stands (what a state checkpoint is tied to), and the files written beside it (chunks, atomically).
export * from "./journal";
export * from "./journalPosition";
export * from "./chunkFile";
export * from "./journalCodec";
export * from "./levelJournal";
export * from "./memoryJournal";
export * from "./postgresJournal";
export * from "./postgresLease";
