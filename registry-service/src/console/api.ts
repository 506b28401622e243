import type { AuditProgress, BatchSummary, ConsoleConfig, ErrorBody, Overview } from "../wire";
import type { AppliedEvent } from "../core";

/** The server answered with one of its error codes (or could not be reached: code UNREACHABLE). */
export class ApiProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = "ApiProblem";
  }
}

/** Where this server's API is: the console is served at <origin>/console/, the API at <origin>/v1/. */
export const apiBase = (): string => new URL("..", window.location.href).href.replace(/\/$/, "");

/** GET a JSON answer of this server's API; its error body becomes an ApiProblem with the server's code and message. */
export async function getJson<T>(path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${apiBase()}${path}`, { headers: { accept: "application/json" } });
  } catch (error) {
    throw new ApiProblem("UNREACHABLE", `the server does not answer: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const problem = body as Partial<ErrorBody> | null;
    throw new ApiProblem(problem?.code ?? `HTTP_${response.status}`, problem?.message ?? `HTTP ${response.status}`, response.status);
  }
  return body as T;
}

export const loadConfig = () => getJson<ConsoleConfig>("/v1/console/config");
export const loadOverview = () => getJson<Overview>("/v1/overview");
export const loadAudit = () => getJson<AuditProgress>("/v1/audit");
export const loadBatch = (batch: number) => getJson<{ batch: BatchSummary; applied: AppliedEvent[] }>(`/v1/batches/${batch}`);
