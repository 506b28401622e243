import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Hasher } from "../../registry-service/src/core";
import type { TreeSnapshot } from "../../registry-service/src/anchoring";
import type { AnchorChain } from "../../registry-service/src/chain/write";
import { DEFAULT_BATCH_POLICY, Intake, type BatchPolicy } from "../../registry-service/src/intake";
import { LevelJournal, type Journal } from "../../registry-service/src/journal";
import { openRegistry, type RegistryParts } from "../../registry-service/src/service/registry";

/** A fresh temporary directory; `remove` deletes it. */
export function tempDir(prefix = "registry-") {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Intake over `journal`, rebuilt from it as the service does on start; `anchored` is what the rebuild gave the anchored view. */
export async function openIntake(journal: Journal, policy: Partial<BatchPolicy> = {}, depth = 32, clock = Date.now) {
  return Intake.open(journal, { ...DEFAULT_BATCH_POLICY, ...policy }, 2 ** depth, clock);
}

/** Intake over a LevelDB journal in a temporary directory; `reopen` simulates a restart. */
export async function tempIntake(policy: Partial<BatchPolicy> = {}) {
  const temp = tempDir("registry-intake-");
  const journal: Journal = await LevelJournal.open(temp.dir);
  const handle = {
    ...temp,
    journal,
    ...(await openIntake(journal, policy)),
    async reopen(newPolicy = policy) {
      await handle.journal.close();
      const reopened = await LevelJournal.open(temp.dir);
      Object.assign(handle, { journal: reopened }, await openIntake(reopened, newPolicy));
      return handle.intake;
    },
    async remove() {
      await handle.journal.close().catch(() => undefined);
      temp.remove();
    },
  };
  return handle;
}

/** The whole write path (journal, intake, anchored view, anchorer) in a temporary directory; `reopen` simulates a restart. */
export async function tempRegistry(chain: AnchorChain, options: { depth: number; policy?: Partial<BatchPolicy>; maxInFlight?: number }) {
  const temp = tempDir("registry-service-");
  const hasher = await Hasher.create();
  const open = async (withChain: AnchorChain, snapshot?: TreeSnapshot) =>
    openRegistry({
      journal: await LevelJournal.open(temp.dir),
      policy: { ...DEFAULT_BATCH_POLICY, ...options.policy },
      hasher,
      depth: options.depth,
      chain: withChain,
      snapshot,
      maxInFlight: options.maxInFlight,
    });
  const handle = {
    ...temp,
    hasher,
    parts: await open(chain),
    /** closes the journal and opens everything again from it, as a restarted process would */
    async reopen(withChain: AnchorChain = chain, snapshot?: TreeSnapshot): Promise<RegistryParts> {
      await handle.parts.journal.close();
      handle.parts = await open(withChain, snapshot);
      return handle.parts;
    },
    async remove() {
      await handle.parts.journal.close().catch(() => undefined);
      temp.remove();
    },
  };
  return handle;
}
