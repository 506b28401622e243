// The publisher's side of the chain: the anchor transaction, encoded and signed in bytes. Only the
// registry service loads it (libsecp256k1, the contract's generated binding).
export * from "./anchorClient";
export * from "./rawTransaction";
export * from "./publisherSigner";
export * from "./chainRules";
