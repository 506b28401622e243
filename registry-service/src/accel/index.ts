// Node-only speedups of the core: a worker thread that hashes half of every large tree level, and
// libsecp256k1's key recovery, OpenSSL's P-256 check. The service and the auditor use them; the verifier SDK never loads them.
export * from "./parallelHasher";
export * from "./secp256k1";
export * from "./p256";
