import { existsSync, readFileSync } from "node:fs";
import { CoreError, holderRef, type Hex } from "../../core";
import { CliError, usageError } from "../errors";
import { writeFileDurably } from "../durableFile";

export const HOLDER_KEY_ENV = "ISSUER_HOLDER_KEY";

/** The register's file: each holder's current index, by holderRef (docs/spec.md 4.5). */
interface RegisterFile {
  holders: Record<string, number>;
}

/**
 * The issuer's register, as far as one holder goes: which index the holder has now, so that a new
 * phone is a REISSUE naming it rather than a second ISSUE. Keyed by holderRef (keyed with the
 * issuer's secret ISSUER_HOLDER_KEY), which never leaves the register: not printed, not sent.
 */
export class HolderRegister {
  private constructor(
    private readonly file: string,
    private readonly contents: RegisterFile,
    private readonly holder: Hex,
  ) {}

  static open(file: string, nationalId: string): HolderRegister {
    const key = process.env[HOLDER_KEY_ENV];
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new CliError("KEY_UNAVAILABLE", `set ${HOLDER_KEY_ENV} to the issuer's holder key (32 bytes of 0x-prefixed hex)`);
    let holder: Hex;
    try {
      holder = holderRef(key as Hex, nationalId);
    } catch (error) {
      if (error instanceof CoreError) throw usageError(`--national-id: ${error.message}`);
      throw error;
    }
    return new HolderRegister(file, readRegister(file), holder);
  }

  /** The holder's index in the register, if any (live or not: the service says). */
  current(): number | undefined {
    return this.contents.holders[this.holder];
  }

  /** Records the holder's new index, durably (a crash leaves the old register or the new one). */
  record(index: number): void {
    this.contents.holders[this.holder] = index;
    writeFileDurably(this.file, `${JSON.stringify(this.contents, null, 2)}\n`, 0o600);
  }
}

function readRegister(file: string): RegisterFile {
  if (!existsSync(file)) return { holders: {} };
  try {
    const contents = JSON.parse(readFileSync(file, "utf8")) as RegisterFile;
    if (typeof contents.holders !== "object" || contents.holders === null) throw new Error("it has no holders object");
    return contents;
  } catch (error) {
    throw usageError(`the register ${file} is not a register: ${(error as Error).message}`);
  }
}
