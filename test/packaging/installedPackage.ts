import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { tempDir } from "../support/tempRegistry";

export const ROOT = path.join(__dirname, "../..");

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never rejects, so that a test can assert on the exit code and output. */
export function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

async function succeed(file: string, args: string[], cwd: string): Promise<string> {
  const result = await run(file, args, { cwd });
  if (result.status !== 0) throw new Error(`${file} ${args.join(" ")} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

const NPM_QUIET = ["--prefer-offline", "--no-audit", "--no-fund"];

/**
 * `npm pack` of this repository (its prepack builds dist/), installed with npm into an empty
 * project in a temporary directory: what a bank gets, with production dependencies only.
 */
export async function packAndInstall() {
  const temp = tempDir("mobile-id-package-");
  const output = await succeed("npm", ["pack", "--json", "--pack-destination", temp.dir], ROOT);
  // some npm versions forward the prepack script's output to stdout, ahead of the JSON
  const packed = JSON.parse(output.slice(output.search(/^\[/m))) as {
    name: string;
    filename: string;
    files: { path: string }[];
  }[];
  const { name, filename, files } = packed[0];
  const project = path.join(temp.dir, "project");
  mkdirSync(project);
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "bank", private: true }));
  await succeed("npm", ["install", path.join(temp.dir, filename), ...NPM_QUIET], project);
  return { ...temp, project, name, files: files.map((file) => file.path), packageDir: path.join(project, "node_modules", name) };
}

/** The README's SDK example: the first ```ts block after its marker comment, exactly as the README shows it. */
export function readmeSdkExample(): string {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const marker = readme.indexOf("<!-- the SDK example");
  const block = /```ts\n([\s\S]*?)```\n/.exec(readme.slice(marker));
  if (marker < 0 || !block) throw new Error("README.md has no SDK example after its marker comment");
  return block[1];
}

/** A tsconfig for `files` in `project`, resolving packages as `moduleResolution` does; @types/node from this repository. */
export function tsconfig(project: string, name: string, files: string[], options: Record<string, unknown>): string {
  const file = path.join(project, `tsconfig.${name}.json`);
  const compilerOptions = {
    strict: true,
    target: "es2022",
    types: ["node"],
    typeRoots: [path.join(ROOT, "node_modules/@types")],
    ...options,
  };
  writeFileSync(file, JSON.stringify({ compilerOptions, files }));
  return file;
}

/** This repository's TypeScript compiler over a project file. */
export const tsc = (project: string, config: string) =>
  run(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", config], { cwd: project });

/** A port nobody listens on right now (the service is given it, so nothing depends on its log lines). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

/** Runs `script` with node in `cwd` and resolves once GET /health on `port` answers 200. */
export async function startListening(script: string, cwd: string, env: Record<string, string>, port: number) {
  const child = spawn(process.execPath, [script], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => void (output = (output + chunk).slice(-8000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`${script} exited (${child.exitCode}) before listening: ${output}`);
    if (
      await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return { url, stop, output: () => output };
    if (attempt === 600) {
      await stop();
      throw new Error(`${script} did not answer on ${url} within a minute: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
