// The pure core: encodings, hashing, trees, proofs, signatures. No I/O, nothing else of the project.
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
export * from "./stateMachine";
export * from "./parallelHasher";
