// The pure core: encodings, hashing, trees, proofs, signatures, the state machine. No I/O, no native
// code, no worker threads, nothing else of the project: the verifier SDK loads it whole.
export * from "./bytes";
export * from "./errors";
export * from "./hasher";
export * from "./record";
export * from "./recordTable";
export * from "./hashIndex";
export * from "./proof";
export * from "./events";
export * from "./eventTree";
export * from "./eip712";
export * from "./positionTable";
export * from "./statusTree";
export * from "./roles";
export * from "./anchor";
export * from "./stateMachine";
export * from "./identifiers";
export * from "./statusList";
export * from "./lockGrant";
