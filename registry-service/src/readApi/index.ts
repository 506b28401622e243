// The verifiers' read API, shared by the registry service and the mirror: Fastify with the API's
// conventions, the error type, the status routes and what they read from.
export * from "./baseApp";
export * from "./errors";
export * from "./statusReader";
export * from "./statusRoutes";
export * from "./readiness";
export * from "./overview";
export * from "./console";
export * from "./lists/listPublisher";
export * from "./lists/listRoutes";
export * from "./lists/listSigner";
export * from "./batchContent";
