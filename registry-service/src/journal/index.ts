// Persistence only: the Journal interface, its drivers, and the entries' binary format.
export * from "./journal";
export * from "./journalCodec";
export * from "./levelJournal";
export * from "./memoryJournal";
export * from "./postgresJournal";
export * from "./postgresLease";
