import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

/** A TypeScript script of the repository run as a child process, its output kept. */
export function startScript(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // "close", not "exit": every byte of its output has been read by then
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  /** Resolves with the first stdout line `matches` accepts; fails if the process ends first. */
  const line = (matches: (line: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const found = output.stdout.split("\n").slice(0, -1).find(matches); // complete lines only
        if (found !== undefined) resolve(found);
      };
      child.stdout.on("data", look);
      look();
      void exited.then(() => reject(new Error(`${script} ended without that line: ${output.stdout}${output.stderr}`)));
    });
  return { child, output, exited, line };
}

/** Runs `script` to its end: exit code and output. */
export async function runScript(script: string, env: Record<string, string>) {
  const run = startScript(script, env);
  const { code } = await run.exited;
  return { code, ...run.output };
}

/** A port on 127.0.0.1 held by this process, as another program would hold it. */
export async function holdPort() {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort() {
  const held = await holdPort();
  await held.release();
  return held.port;
}
