import { p256 } from "@noble/curves/p256";
import { id } from "ethers";
import {
  blankEvent,
  Channel,
  deviceKeyHash,
  EventKind,
  hexToBytes,
  signLockGrant,
  type Hex,
  type RegistryDomain,
  type StatusEvent,
} from "../../registry-service/src/core";
import { submitSigned } from "../../registry-service/src/client/submissionClient";
import { devAccount } from "../../scripts/embedded-chain";

/** test phones by deviceKeyHash, so that a lock built without its signer can be granted when it is signed */
const PHONES = new Map<string, string>();

/** Far enough ahead for any deadline a test signs. */
const GRANT_NOT_AFTER = 4_000_000_000;

/**
 * A test phone: a P-256 device key derived from a label, its deviceKeyHash (what an ISSUE binds),
 * and the LOCK_DEVICE its operator sends with the phone's grant (docs/spec.md 4.6).
 */
export function testPhone(label: string) {
  const privateKey = hexToBytes(id(`test phone key: ${label}`));
  const hash = deviceKeyHash(p256.getPublicKey(privateKey, true));
  PHONES.set(hash, label);
  return {
    hash,
    grant: (domain: RegistryDomain, operator: string, notAfter = GRANT_NOT_AFTER) => signLockGrant(privateKey, domain, operator, notAfter),
    lock(domain: RegistryDomain, operator: string, notAfter = GRANT_NOT_AFTER): StatusEvent {
      return { ...blankEvent(EventKind.LockDevice), deviceKeyHash: hash, grant: this.grant(domain, operator, notAfter) };
    },
  };
}

/** A well-formed grant for nobody's lock (another registry, operator 0x11..): for tests below the layers that check grants (the state machine, intake, encodings). */
export const UNCHECKED_GRANT = testPhone("unchecked").grant(
  { chainId: 1, verifyingContract: `0x${"11".repeat(20)}` },
  `0x${"11".repeat(20)}`,
);

/**
 * The events with every LOCK_DEVICE of a test phone that has no grant yet granted to `signer`:
 * test helpers build locks before they know who signs them (a lock of an unknown device stays as it is).
 */
export function withGrants<T extends Partial<StatusEvent>>(events: readonly T[], domain: RegistryDomain, signer: string): T[] {
  return events.map((event) => {
    const ungranted = !event.grant || event.grant === "0x";
    const label = event.kind === EventKind.LockDevice && ungranted ? PHONES.get(event.deviceKeyHash!) : undefined;
    return label === undefined ? event : { ...event, grant: testPhone(label).grant(domain, signer) };
  });
}

/**
 * Posts signed submissions to a running service as dev account `signer` (Hardhat's test mnemonic),
 * each event's omitted fields zero and its test-phone locks granted to the signer.
 */
export function devSubmitter(serviceUrl: string, domain: RegistryDomain) {
  return (signer: number, nonce: string, events: Partial<StatusEvent>[]) => {
    const account = devAccount(signer);
    const full = events.map((e) => ({ ...blankEvent(e.kind!), ...e }));
    return submitSigned(serviceUrl, account, domain, { nonce: id(nonce) as Hex, events: withGrants(full, domain, account.address) });
  };
}

/** The dev issuer's ISSUE of credential "c" to test phone "p", posted to the service: the one submission the e2e tests anchor. */
export function postOneIssue(serviceUrl: string, domain: RegistryDomain) {
  const event = {
    kind: EventKind.Issue,
    credentialCommitment: id("c") as Hex,
    deviceKeyHash: testPhone("p").hash,
    channel: Channel.ChipCard,
  };
  return devSubmitter(serviceUrl, domain)(2, "issue", [event]);
}
