// Anchoring: cut batches into anchors, send them, and keep the anchored view proofs are served from.
export * from "./anchoredView";
export * from "./anchorer";
export * from "./batcher";
export * from "./correction";
export * from "./errors";
export * from "./prepareBatch";
export * from "./treeSnapshot";
