import { expect } from "chai";
import { SigningKey } from "ethers";
import { CoreError, credentialCommitment, deviceKeyHash, holderRef, type Hex } from "../../registry-service/src/core";

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as CoreError).code;
  }
  return "accepted";
};

describe("identifiers: what a party gets wrong is refused, not hashed", () => {
  it("refuses an uncompressed secp256k1 key (an Ethereum key, not a device's P-256 key)", () => {
    // compressed, half of all x values are P-256 points too: only the full point tells the curves apart (spec 4.5)
    const ethereumKey = SigningKey.computePublicKey(`0x${"11".repeat(32)}`, false) as Hex;
    expect(refusal(() => deviceKeyHash(ethereumKey))).to.equal("INVALID_FIELD");
  });

  it("refuses a JWK of another curve and a coordinate of the wrong length", () => {
    const jwk = { kty: "EC", crv: "P-384", x: "AA", y: "AA" } as never;
    expect(refusal(() => deviceKeyHash(jwk))).to.equal("INVALID_FIELD");
    expect(refusal(() => deviceKeyHash({ kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" }))).to.equal("INVALID_FIELD");
  });

  it("refuses an empty credential id, a short salt and a national id with other characters", () => {
    const salt = `0x${"01".repeat(32)}` as Hex;
    expect(refusal(() => credentialCommitment("", salt))).to.equal("INVALID_FIELD");
    expect(refusal(() => credentialCommitment("KR-1", "0x01"))).to.equal("MALFORMED_HEX");
    expect(refusal(() => holderRef(salt, "900101_1234567"))).to.equal("INVALID_FIELD");
  });

  it("keys holderRef: another issuer key gives another handle for the same person", () => {
    const [a, b] = ["0x" + "01".repeat(32), "0x" + "02".repeat(32)] as Hex[];
    expect(holderRef(a, "9001011234567")).to.not.equal(holderRef(b, "9001011234567"));
    expect(holderRef(a, "900101-1234567")).to.equal(holderRef(a, "9001011234567"));
  });
});
