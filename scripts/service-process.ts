import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..");

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  /** everything it wrote to stdout and stderr so far (its JSON log, one line per batch at info) */
  output(): string;
  /** SIGTERM (a graceful stop: the service writes its tree snapshot), resolved once it has exited */
  stop(): Promise<NodeJS.Signals | number | null>;
}

/**
 * The registry service as a child process (crash tests kill it; benchmarks load it from outside),
 * resolved once it listens: as the service, or (`standby`, JOURNAL_URL with another instance
 * leading) as a standby, at the URL it will serve on once it takes over.
 */
export async function startServiceProcess(env: Record<string, string>, { standby = false } = {}): Promise<ServiceProcess> {
  // SERVICE_NODE_ARGS: extra node flags for the child, e.g. "--cpu-prof" to profile a benchmark
  const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, "-r", "ts-node/register/transpile-only", "registry-service/src/service/server.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  let output = "";
  let stdoutLine = "";
  const url = await new Promise<string>((resolve, reject) => {
    const keep = (chunk: Buffer) => (output += chunk);
    child.stdout!.on("data", (chunk: Buffer) => {
      keep(chunk);
      const lines = (stdoutLine + chunk).split("\n");
      stdoutLine = lines.pop()!; // the line not yet complete
      const url = lines.map((line) => readyUrl(line, standby)).find(Boolean);
      if (url) resolve(url);
    });
    child.stderr!.on("data", keep);
    void exited.then((how) => reject(new Error(`service exited (${how}) before listening: ${output.slice(-8000)}`)));
  });
  return {
    child,
    url,
    exited,
    output: () => output,
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

const READY = "registry-service ready";
const STANDING_BY = "registry-service standing by";

/** The URL in the service's JSON log line "registry-service ready" (or "... standing by"), logged at info; undefined for any other line. */
function readyUrl(line: string, standby: boolean): string | undefined {
  if (!line.includes(`"${READY}"`) && !(standby && line.includes(`"${STANDING_BY}"`))) return undefined;
  const parsed = JSON.parse(line) as { msg?: string; url?: string };
  return parsed.msg === READY || (standby && parsed.msg === STANDING_BY) ? parsed.url : undefined;
}
