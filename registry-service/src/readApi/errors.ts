import type { TransitionErrorCode } from "../core";

/** Stable error codes of the HTTP API (service and mirror); the message says what to fix. */
export type ApiErrorCode =
  | "VALIDATION_FAILED"
  | "BODY_TOO_LARGE"
  | "SUBMISSION_TOO_LARGE"
  | "INVALID_EVENT"
  | "INVALID_SIGNATURE"
  | "NOT_FOUND"
  | "RATE_LIMITED"
  | "QUEUE_FULL"
  | "CHAIN_UNAVAILABLE"
  | "CHAIN_DIVERGED"
  | "DEADLINE_TOO_SOON"
  | "DEADLINE_TOO_FAR"
  | "DOMAIN_MISMATCH"
  | "CONSOLE_NOT_BUILT"
  | "NOT_LEADER"
  | "INTERNAL"
  | TransitionErrorCode;

/** The HTTP layer's one error type: a code, a status, a message, and when to retry. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    readonly statusCode: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Turns what a layer below throws into an ApiError, or undefined when it is not that layer's error. */
export type ErrorMapping = (error: unknown) => ApiError | undefined;

/**
 * Maps a thrown error to the API's codes: ApiErrors as they are, then `mapping` (the layers a
 * server owns), then Fastify's own 4xx (schema validation, body size); anything else is a 500
 * without details.
 */
export function toApiError(error: unknown, mapping: ErrorMapping = () => undefined): ApiError {
  if (error instanceof ApiError) return error;
  return mapping(error) ?? fastifyApiError(error) ?? new ApiError("INTERNAL", 500, "internal error");
}

/** Fastify's own 4xx (schema validation, body size) as API errors. */
function fastifyApiError(error: unknown): ApiError | undefined {
  const fastify = error as { validation?: unknown; message?: string; statusCode?: number };
  const message = fastify.message ?? "invalid request";
  if (fastify.validation) return new ApiError("VALIDATION_FAILED", 400, message);
  if (fastify.statusCode === 413) return new ApiError("BODY_TOO_LARGE", 413, `${message}: split the submission (at most 10,000 events)`);
  if (fastify.statusCode === 429) return new ApiError("RATE_LIMITED", 429, message);
  if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500)
    return new ApiError("VALIDATION_FAILED", fastify.statusCode, message);
  return undefined;
}
