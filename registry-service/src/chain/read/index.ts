// Read-only chain access over any JSON-RPC node: the registry's ABI, a fail-fast provider, the
// anchor history (logs and calldata), the role timeline and the intake's role follower. Loads no
// native code and no generated bindings: the verifier SDK uses it.
export * from "./errors";
export * from "./registryAbi";
export * from "./rpc";
export * from "./history";
export * from "./roleTimeline";
export * from "./roleFollower";
export * from "./confirmation";
export * from "./anchorFacts";
