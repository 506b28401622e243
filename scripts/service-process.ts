import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..");

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  /** SIGTERM (a graceful stop: the service writes its tree snapshot), resolved once it has exited */
  stop(): Promise<NodeJS.Signals | number | null>;
}

/** The registry service as a child process (crash tests kill it; benchmarks load it from outside). */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  // SERVICE_NODE_ARGS: extra node flags for the child, e.g. "--cpu-prof" to profile a benchmark
  const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, "-r", "ts-node/register/transpile-only", "registry-service/src/service/server.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk).slice(-8000);
      const match = /registry-service\s+(http:\/\/\S+)\/v1/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((how) => reject(new Error(`service exited (${how}) before listening: ${output}`)));
  });
  return {
    child,
    url,
    exited,
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
