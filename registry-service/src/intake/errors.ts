export type IntakeErrorCode =
  | "SUBMISSION_TOO_LARGE"
  | "QUEUE_FULL"
  /** the signed deadline is past or too close to anchor the submission in time */
  | "DEADLINE_TOO_SOON"
  /** the signed deadline is further ahead than the service lets a signed request live */
  | "DEADLINE_TOO_FAR"
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
