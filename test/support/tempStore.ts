import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RegistryStore, type BatchLimits } from "../../registry-service/src/storage/registryStore";

/** A RegistryStore in a fresh temporary directory; `reopen` simulates a restart, `remove` cleans up. */
export async function tempStore(limits: Partial<BatchLimits> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "registry-store-"));
  const handle = {
    dir,
    store: await RegistryStore.open(dir, limits),
    async reopen() {
      await handle.store.close();
      handle.store = await RegistryStore.open(dir, limits);
      return handle.store;
    },
    async remove() {
      await handle.store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
