import { execFile } from "node:child_process";

/**
 * The `mobile-id` command line against a registry, as JSON, run asynchronously (a mirror or service
 * it asks may live in the test's process): its exit code, stdout and stderr.
 */
export const chainCli =
  (rpcUrl: string, registry: string) =>
  (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ["scripts/mobile-id.js", ...args, "--rpc", rpcUrl, "--registry", registry, "--json"],
        (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
