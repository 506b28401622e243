// Intake: signed submissions through the state machine into the journal, under one batch policy.
export * from "./batchPolicy";
export * from "./errors";
export * from "./intake";
export * from "./intakeState";
export * from "./anchoredRecords";
export * from "./stateCheckpoint";
