/**
 * The command line's one error type. Its code says what went wrong and which exit code it gives:
 * 1 when the service or the chain refused (the service's own code travels with it), 2 when the
 * command could not run (bad arguments or input, no key, nothing answering).
 */
export type CliErrorCode =
  /** bad arguments, a bad input file or a bad value in it */
  | "USAGE"
  /** no signing key, or a keystore that does not open */
  | "KEY_UNAVAILABLE"
  /** the service or the chain does not answer */
  | "UNREACHABLE"
  /** the service or the chain said no; `serviceCode` is its code */
  | "REFUSED";

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly serviceCode?: string,
  ) {
    super(message);
    this.name = "CliError";
  }

  get exitCode(): 1 | 2 {
    return this.code === "REFUSED" ? 1 : 2;
  }
}

export const usageError = (message: string) => new CliError("USAGE", message);
