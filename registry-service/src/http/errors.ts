import { CoreError, TransitionError, type TransitionErrorCode } from "../core";
import { ChainError } from "../chain/read";
import { IntakeError } from "../intake";
import { JournalError } from "../journal";
import { ApiError } from "../readApi";

const TRANSITION_STATUS: Record<TransitionErrorCode, number> = {
  ROLE_REQUIRED: 403,
  UNKNOWN_INDEX: 404,
  UNKNOWN_DEVICE: 404,
  CREDENTIAL_REVOKED: 409,
  ALREADY_SUSPENDED: 409,
  NOT_SUSPENDED: 409,
  DEVICE_IN_USE: 409,
  DUPLICATE_NONCE: 409,
  REGISTRY_FULL: 409,
  SUSPENSION_CHANGED: 409,
  LOCK_NOT_GRANTED: 403,
};

const INTAKE_STATUS = {
  SUBMISSION_TOO_LARGE: 413,
  QUEUE_FULL: 503,
  CHAIN_DIVERGED: 503,
  DEADLINE_TOO_SOON: 400,
  DEADLINE_TOO_FAR: 400,
} as const;

/** The service's layers' errors as API errors (the read API maps the rest). */
export function serviceApiError(error: unknown): ApiError | undefined {
  if (error instanceof TransitionError) return new ApiError(error.code, TRANSITION_STATUS[error.code], error.message);
  if (error instanceof CoreError) {
    return error.code === "INVALID_SIGNATURE"
      ? new ApiError("INVALID_SIGNATURE", 401, error.message)
      : new ApiError("INVALID_EVENT", 400, error.message);
  }
  if (error instanceof IntakeError) return new ApiError(error.code, INTAKE_STATUS[error.code], error.message, error.retryAfterSeconds);
  if (error instanceof JournalError && error.code === "FENCED")
    return new ApiError("NOT_LEADER", 503, `this instance lost the lead: ${error.message}; send writes to the leader`, 2);
  if (error instanceof ChainError && error.code === "CHAIN_UNREACHABLE") return new ApiError("CHAIN_UNAVAILABLE", 503, error.message, 5);
  return undefined;
}
