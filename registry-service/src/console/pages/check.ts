import { Reason, Status } from "../../core";
import { createVerifier, httpStatusSource, type CheckResult, type CheckStep } from "../../verifier";
import type { ConsoleConfig } from "../../wire";
import { apiBase } from "../api";
import { alertBox, constantName, facts, h, short } from "../dom";
import { formWithOutput, type Page } from "../page";

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/** What the form asks; refused with a message naming the field when it cannot be checked. */
interface CheckRequest {
  index: number;
  credentialCommitment: string | null;
  deviceKeyHash: string | null;
  source: string;
  rpcUrl: string;
}

export const checkPage: Page = {
  title: "Check a credential",
  render(view, config, rest) {
    const form = checkForm(config, rest[0]);
    const intro = "The proof is verified in this browser with the registry's own code, and its root is asked of the chain node below.";
    formWithOutput(view, intro, form, "check-output", (output) => void runCheck(form, config, output));
    return () => undefined;
  },
};

function field(label: string, name: string, attributes: Record<string, string | boolean> = {}, hint?: string): HTMLElement {
  const id = `field-${name}`;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name, autocomplete: "off", spellcheck: "false", ...attributes }),
    hint ? h("small", {}, hint) : null,
  );
}

function checkForm(config: ConsoleConfig, index: string | undefined): HTMLFormElement {
  const hex = { pattern: HEX32.source.slice(1, -1), placeholder: "0x… (32 bytes)" };
  return h(
    "form",
    { id: "check-form", novalidate: true },
    field("Status index", "index", { required: true, inputmode: "numeric", value: index ?? "" }, "the credential's slot"),
    field("Credential commitment (optional)", "commitment", hex, "left empty: not compared"),
    field("Device-key hash (optional)", "device", hex, "left empty: not compared"),
    h(
      "details",
      {},
      h("summary", {}, "Where to ask"),
      field("Status source (record and proof)", "source", { value: apiBase(), type: "url" }),
      field("Chain node (JSON-RPC)", "rpc", { value: config.rpcUrl, type: "url" }, "your own node: the root is checked there"),
    ),
    h("button", { type: "submit" }, "Check"),
  );
}

/** The form's values, or the message that says which one is wrong. */
function readForm(form: HTMLFormElement, depth: number): CheckRequest | string {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  const index = value("index");
  if (!/^[0-9]{1,16}$/.test(index) || Number(index) >= 2 ** depth) return `Status index: a whole number from 0 to 2^${depth} − 1`;
  const optionalHex = (name: string, label: string) => {
    const given = value(name);
    if (given && !HEX32.test(given)) throw new Error(`${label}: 0x and 64 hex digits, or nothing`);
    return given || null;
  };
  try {
    const credentialCommitment = optionalHex("commitment", "Credential commitment");
    const deviceKeyHash = optionalHex("device", "Device-key hash");
    return { index: Number(index), credentialCommitment, deviceKeyHash, source: value("source"), rpcUrl: value("rpc") };
  } catch (error) {
    return (error as Error).message;
  }
}

async function runCheck(form: HTMLFormElement, config: ConsoleConfig, output: HTMLElement): Promise<void> {
  const request = readForm(form, config.depth);
  if (typeof request === "string") {
    output.replaceChildren(alertBox("error", "Cannot check that", request));
    return;
  }
  const button = form.querySelector("button")!;
  button.disabled = true;
  const steps = h("ol", { class: "steps", id: "check-steps" });
  output.replaceChildren(h("h2", {}, `Index ${request.index}`), steps);
  try {
    const verifier = await createVerifier({
      chain: request.rpcUrl,
      registry: config.registry,
      sources: [httpStatusSource(request.source)],
      rootCacheMs: 0,
      onStep: (step) => steps.append(stepItem(step)),
    });
    const { credentialCommitment, deviceKeyHash } = request;
    output.append(verdict(await verifier.check(request.index, { credentialCommitment, deviceKeyHash })));
  } catch (error) {
    output.append(alertBox("error", "The check could not run", (error as Error).message));
  } finally {
    button.disabled = false;
  }
}

const STEP_TITLES: Record<CheckStep["step"], string> = {
  ANSWER: "Record and proof fetched",
  PROOF: "Proof verified in this browser",
  ROOT: "Root asked of the chain",
};

function stepItem(step: CheckStep): HTMLElement {
  return h(
    "li",
    { class: step.ok ? "ok" : "failed" },
    h("strong", {}, `${step.ok ? "✓" : "✗"} ${STEP_TITLES[step.step]}`),
    h("p", {}, step.message),
  );
}

function verdict(result: CheckResult): HTMLElement {
  const box = h(
    "div",
    { class: `verdict ${result.valid ? "valid" : "refused"}`, id: "verdict", role: "status", "data-reason": result.reason },
    h("span", { class: "reason" }, result.reason),
    h("p", {}, result.message),
  );
  const record = result.record;
  if (record) {
    const anchoredAt = result.root ? new Date(result.root.anchoredAt * 1000).toLocaleString() : "—";
    box.append(
      facts([
        ["Status", constantName(Status[record.status])],
        ["Reason", `${record.reason} ${constantName(Reason[record.reason])}`],
        ["Last changed in batch", String(record.batch)],
        ["Commitment", short(record.credentialCommitment)],
        ["Device-key hash", short(record.deviceKeyHash)],
        ["Root's batch on chain", result.root ? `#${result.root.batch}, anchored ${anchoredAt}` : "—"],
      ]),
    );
  }
  for (const attempt of result.attempts ?? [])
    box.append(h("p", { class: "attempt" }, `${attempt.source}: ${attempt.reason}: ${attempt.message}`));
  return box;
}
