// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IStatusRegistry
 * @notice Anchors the status-tree roots of a national mobile-ID registry, one strictly sequential
 * batch at a time, and verifies status proofs against anchored roots. See docs/spec.md for the
 * tree, the encodings and the calldata format; the contract is the on-chain half of that spec.
 *
 * IMPORTANT: the chain never holds personal data. Records carry only commitments and keyed hashes.
 */
interface IStatusRegistry {
    /// @notice Status of a slot in the status tree. NONE is an unused slot (never issued).
    enum Status {
        NONE,
        ACTIVE,
        SUSPENDED,
        REVOKED
    }

    /**
     * @notice One leaf of the status tree (spec section "Status record").
     * @dev For an unused slot pass `status = NONE` and every other field but `index` zero.
     */
    struct StatusRecord {
        uint64 index;
        bytes32 credentialCommitment;
        bytes32 deviceKeyHash;
        Status status;
        uint8 reason;
        uint64 batch;
    }

    /**
     * @notice What the chain remembers of an anchored batch.
     * @param statusRoot status-tree root after the batch
     * @param batch the batch number (0 is the empty tree set at deployment)
     * @param anchoredAt block timestamp of the anchoring transaction
     * @param anchoredBlock block number of the anchoring transaction
     * @param supersededAt timestamp at which the next batch replaced this root, 0 while current
     */
    struct BatchInfo {
        bytes32 statusRoot;
        uint64 batch;
        uint64 anchoredAt;
        uint64 anchoredBlock;
        uint64 supersededAt;
    }

    /**
     * @notice Emitted when batch `batch` is anchored. The batch's events and their signatures are in
     * the calldata of the same transaction; `eventDataHash` is their chunked hash (docs/spec.md).
     */
    event BatchAnchored(
        uint64 indexed batch,
        bytes32 indexed statusRoot,
        bytes32 previousRoot,
        bytes32 eventRoot,
        uint32 eventCount,
        bytes32 eventDataHash
    );

    /**
     * @notice The admin approved a correction: the next anchor may be `anchorCorrection`, which
     * strikes batches `base`+1..`through` (roots the registry's publisher did not make, found by the
     * audit) and re-bases the registry on the state after `base` (docs/spec.md 5.5).
     */
    event CorrectionApproved(uint64 indexed base, uint64 through, address indexed admin);

    /**
     * @notice Batch `batch` is a correction: its status root is the state after batch `base` with
     * this batch's events applied; batches `base`+1..`through` are struck (rootInfo and verifyStatus
     * refuse their roots). Emitted after the batch's BatchAnchored.
     */
    event BatchCorrected(uint64 indexed batch, uint64 base, uint64 through);

    /**
     * @notice The publisher confirmed that `statusRoot`, batch `batch`, is still the registry's
     * current root (a heartbeat while nothing is anchored): verifiers judge freshness from it.
     */
    event RootConfirmed(uint64 indexed batch, bytes32 statusRoot);

    /**
     * @notice Witness `witness` attested that its own replay of the chain reproduced `statusRoot` as
     * batch `batch` (docs/spec.md 5.6); `attestations` is the root's count of witnesses so far.
     */
    event RootAttested(uint64 indexed batch, bytes32 indexed statusRoot, address indexed witness, uint32 attestations);

    /// @notice The anchored batch number is not the next one.
    error StatusRegistryUnexpectedBatch(uint64 expected, uint64 given);
    /// @notice The batch does not build on the current root (a fork or a gap).
    error StatusRegistryPreviousRootMismatch(bytes32 current, bytes32 given);
    /// @notice The new status root was anchored before; roots identify batches and must be unique.
    error StatusRegistryRootAlreadyAnchored(bytes32 root, uint64 batch);
    /// @notice A zero status or event root was given.
    error StatusRegistryZeroRoot();
    /// @notice A batch must carry at least one event and its event data.
    error StatusRegistryEmptyBatch(uint32 eventCount, uint256 eventDataLength);
    /// @notice No batch with this number has been anchored.
    error StatusRegistryUnknownBatch(uint64 batch);
    /// @notice This root was never anchored.
    error StatusRegistryUnknownRoot(bytes32 root);
    /// @notice The proof does not have exactly one sibling per tree level.
    error StatusRegistryInvalidProofLength(uint256 expected, uint256 given);
    /// @notice The index does not fit the tree's depth.
    error StatusRegistryIndexOutOfRange(uint64 index, uint8 depth);
    /// @notice A record for an unused slot (status NONE) carries non-zero fields.
    error StatusRegistryMalformedRecord(uint64 index);
    /// @notice The proof leads to a different root than the one asked about.
    error StatusRegistryProofMismatch(bytes32 root, bytes32 computed);
    /// @notice A correction must re-base on an anchored batch before the latest, striking at most MAX_STRUCK_BATCHES.
    error StatusRegistryInvalidCorrection(uint64 base, uint64 latest);
    /// @notice anchorCorrection without a standing approval from the admin.
    error StatusRegistryNoCorrectionApproved();
    /// @notice Batches were anchored after the approval: the admin must approve again, naming them.
    error StatusRegistryCorrectionOutdated(uint64 approvedThrough, uint64 latest);
    /// @notice This root was struck by the correction anchored as batch `correctedBy`: it is not the registry's.
    error StatusRegistryRootStruck(bytes32 root, uint64 correctedBy);
    /// @notice A heartbeat named a root that is not the current one.
    error StatusRegistryNotCurrent(uint64 latestBatch, bytes32 currentRoot);
    /// @notice An attestation named a root that is not the one anchored as `batch`.
    error StatusRegistryNotAnchoredAs(uint64 batch, bytes32 anchoredRoot);
    /// @notice This witness attested this root before.
    error StatusRegistryAlreadyAttested(bytes32 root, address witness);
    /// @notice The root stopped being the registry's confirmed current root longer than `maxAge` seconds ago.
    error StatusRegistryRootTooOld(bytes32 root, uint64 vouchedUntil, uint64 maxAge);
    /// @notice Fewer witnesses attested the root than the caller requires.
    error StatusRegistryNotWitnessed(bytes32 root, uint32 witnesses, uint32 required);
    /// @notice The publisher's key may hold no other role: `account` already holds `held`.
    error StatusRegistryRoleConflict(address account, bytes32 role, bytes32 held);
    /// @notice The tree depth given at deployment is outside 1..64.
    error StatusRegistryInvalidDepth(uint8 depth);

    /**
     * @notice Anchors batch `batch`: `statusRoot` replaces `previousRoot` as the current root.
     * @dev Requires PUBLISHER_ROLE and the registry not paused. `eventData` is the canonical batch
     * encoding (docs/spec.md, "Anchor calldata"); the contract stores only its hash and leaves the
     * bytes in calldata, where auditors read them back.
     * @param batch must be exactly `latestBatch().batch + 1`
     * @param previousRoot must equal the current status root
     * @param statusRoot status-tree root after applying the batch; never anchored before
     * @param eventRoot root of the batch's event tree
     * @param eventCount number of leaves in the event tree; at least 1
     * @param eventData the batch's signed submissions, encoded per the spec
     */
    function anchor(
        uint64 batch,
        bytes32 previousRoot,
        bytes32 statusRoot,
        bytes32 eventRoot,
        uint32 eventCount,
        bytes calldata eventData
    ) external;

    /**
     * @notice Approves a correction (docs/runbook.md, "divergence"): the next anchor may strike every
     * batch after `base` up to the current latest one and re-base on `base`'s state. Requires
     * DEFAULT_ADMIN_ROLE. A later anchor outdates it; a new approval replaces it.
     */
    function approveCorrection(uint64 base) external;

    /// @notice The standing correction approval; (0, 0) when there is none.
    function approvedCorrection() external view returns (uint64 base, uint64 through);

    /**
     * @notice Anchors a correction: as {anchor} (same arguments and checks: `previousRoot` is the
     * current, struck root), but `statusRoot` is the state after the approved `base` with this
     * batch's events, and the approved batches are struck. Requires PUBLISHER_ROLE, a standing
     * approval whose `through` is still the latest batch, and the registry not paused.
     */
    function anchorCorrection(
        uint64 batch,
        bytes32 previousRoot,
        bytes32 statusRoot,
        bytes32 eventRoot,
        uint32 eventCount,
        bytes calldata eventData
    ) external;

    /**
     * @notice Confirms that batch `batch` with root `statusRoot` is still the current root (docs/spec.md
     * 5.3): the publisher sends it while idle, so that a current root ages only when anchoring stops.
     * Requires PUBLISHER_ROLE, the registry not paused, and `batch`/`statusRoot` the latest.
     */
    function heartbeat(uint64 batch, bytes32 statusRoot) external;

    /**
     * @notice The current root, when it was last confirmed (its anchor or a heartbeat: block timestamp
     * and number) and whether the registry is paused: all a verifier needs to judge freshness in one call.
     */
    function currentRoot()
        external
        view
        returns (bytes32 statusRoot, uint64 batch, uint64 confirmedAt, uint64 confirmedBlock, bool isPaused);

    /**
     * @notice A witness's word that its own replay of every anchored batch (docs/spec.md 5.6)
     * reproduced `statusRoot` as batch `batch`. Requires WITNESS_ROLE; `statusRoot` must be the root
     * anchored as `batch` and not struck; once per witness and root. Works while paused.
     */
    function attest(uint64 batch, bytes32 statusRoot) external;

    /// @notice How many witnesses attested `root` (0 for a root never anchored).
    function attestations(bytes32 root) external view returns (uint32);

    /// @notice Whether `witness` attested `root`.
    function hasAttested(bytes32 root, address witness) external view returns (bool);

    /// @notice Stops anchoring (emergency). Requires DEFAULT_ADMIN_ROLE. Views keep working.
    function pause() external;

    /// @notice Resumes anchoring. Requires DEFAULT_ADMIN_ROLE.
    function unpause() external;

    /// @notice Depth of the status tree, fixed at deployment: indexes range over [0, 2**depth).
    function treeDepth() external view returns (uint8);

    /// @notice The most recently anchored batch (batch 0, the empty tree, before any anchor).
    function latestBatch() external view returns (BatchInfo memory);

    /// @notice Batch `batch`; reverts with StatusRegistryUnknownBatch if not anchored.
    function batchInfo(uint64 batch) external view returns (BatchInfo memory);

    /**
     * @notice When `root` was anchored and when, if ever, it was superseded, so that a verifier can
     * ask "was this root current at time T". Reverts with StatusRegistryUnknownRoot if never anchored,
     * StatusRegistryRootStruck if a correction struck it.
     */
    function rootInfo(bytes32 root) external view returns (BatchInfo memory);

    /**
     * @notice Root that `proof` and `record` lead to, without comparing it to anything.
     * @dev Reverts on a proof of the wrong length, an index beyond the depth, or a malformed record.
     */
    function computeStatusRoot(StatusRecord calldata record, bytes32[] calldata proof) external view returns (bytes32);

    /**
     * @notice Verifies that `record` sits at `record.index` under the anchored root `root` and returns
     * its status (NONE for a slot that was never issued).
     * @dev Reverts with StatusRegistryUnknownRoot, StatusRegistryRootStruck, StatusRegistryProofMismatch or
     * the errors of {computeStatusRoot}; it never returns a status it could not prove.
     *
     * WARNING: this accepts ANY root ever anchored and not struck, however long ago it was replaced:
     * it proves what the status was at `root`, not what it is now. A contract deciding now should call
     * {verifyCurrentStatus}.
     */
    function verifyStatus(
        bytes32 root,
        StatusRecord calldata record,
        bytes32[] calldata proof
    ) external view returns (Status);

    /**
     * @notice As {verifyStatus}, for a decision now (docs/spec.md 5.3, 5.6): also reverts when the
     * registry is paused (EnforcedPause), when `root` stopped vouching more than `maxAge` seconds ago
     * (StatusRegistryRootTooOld: a current root vouches until its last anchor or heartbeat, a
     * superseded one until it was replaced), and when fewer than `minWitnesses` witnesses attested it
     * (StatusRegistryNotWitnessed).
     */
    function verifyCurrentStatus(
        bytes32 root,
        StatusRecord calldata record,
        bytes32[] calldata proof,
        uint64 maxAge,
        uint32 minWitnesses
    ) external view returns (Status);
}
