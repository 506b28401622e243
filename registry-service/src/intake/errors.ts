export type IntakeErrorCode =
  | "SUBMISSION_TOO_LARGE"
  | "QUEUE_FULL"
  /** the chain holds an anchor this service did not make: nothing new could ever be anchored */
  | "CHAIN_DIVERGED";

/** Intake refuses a submission before anything of it is written. */
export class IntakeError extends Error {
  constructor(
    readonly code: IntakeErrorCode,
    message: string,
    /** pushback: when a retry may succeed */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "IntakeError";
  }
}
