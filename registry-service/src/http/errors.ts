import { CoreError, TransitionError, type TransitionErrorCode } from "../core";
import { AnchorError } from "../batching/anchorer";
import { StoreError } from "../storage/registryStore";

/** Stable error codes of the HTTP API; the message says what to fix. */
export type ApiErrorCode =
  | "VALIDATION_FAILED"
  | "BODY_TOO_LARGE"
  | "SUBMISSION_TOO_LARGE"
  | "INVALID_EVENT"
  | "INVALID_SIGNATURE"
  | "NOT_FOUND"
  | "QUEUE_FULL"
  | "CHAIN_UNAVAILABLE"
  | "CHAIN_DIVERGED"
  | "INTERNAL"
  | TransitionErrorCode;

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

const TRANSITION_STATUS: Record<TransitionErrorCode, number> = {
  ROLE_REQUIRED: 403,
  UNKNOWN_INDEX: 404,
  UNKNOWN_DEVICE: 404,
  CREDENTIAL_REVOKED: 409,
  ALREADY_SUSPENDED: 409,
  NOT_SUSPENDED: 409,
  DEVICE_IN_USE: 409,
  DUPLICATE_NONCE: 409,
};

/** Maps what the lower layers throw to the API's codes; anything unknown is a 500 without details. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TransitionError) return new ApiError(error.code, TRANSITION_STATUS[error.code], error.message);
  if (error instanceof CoreError) {
    return error.code === "INVALID_SIGNATURE"
      ? new ApiError("INVALID_SIGNATURE", 401, error.message)
      : new ApiError("INVALID_EVENT", 400, error.message);
  }
  if (error instanceof StoreError && error.code === "SUBMISSION_TOO_LARGE") return new ApiError(error.code, 413, error.message);
  if (error instanceof AnchorError)
    return new ApiError("CHAIN_UNAVAILABLE", 503, "the registry cannot confirm against the chain right now", 30);
  const validation = error as { validation?: unknown; message?: string; statusCode?: number };
  if (validation.validation) return new ApiError("VALIDATION_FAILED", 400, validation.message ?? "invalid request");
  if (validation.statusCode === 413)
    return new ApiError("BODY_TOO_LARGE", 413, `${validation.message}: split the submission (at most 10,000 events)`);
  if (validation.statusCode && validation.statusCode >= 400 && validation.statusCode < 500) {
    return new ApiError("VALIDATION_FAILED", validation.statusCode, validation.message ?? "invalid request");
  }
  return new ApiError("INTERNAL", 500, "internal error");
}
