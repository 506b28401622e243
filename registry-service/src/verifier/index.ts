// The verifier SDK: the pure core, read-only chain access and the wire schemas; nothing of the
// service's internals, no native code, no worker threads (ESLint holds it to that).
export * from "./verifier";
export * from "./statusSource";
export * from "./receipt";
export * from "./listVerifier";
export {
  ChainError,
  connectRpc,
  lazyProvider,
  rpcChainId,
  REGISTRY_ABI,
  REGISTRY_INTERFACE,
  revertName,
  toRootInfo,
  type ChainErrorCode,
  type RootInfo,
} from "../chain/read";
export type { StatusAnswer, EventReceipt } from "../wire";
