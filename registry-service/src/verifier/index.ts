// The verifier SDK: the pure core and ethers, nothing of the service's internals.
export * from "./verifier";
export * from "./statusSource";
export * from "./chain";
export * from "./registryAbi";
export * from "./receipt";
