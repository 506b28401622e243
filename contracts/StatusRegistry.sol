// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IStatusRegistry} from "./interfaces/IStatusRegistry.sol";
import {StatusTree} from "./libraries/StatusTree.sol";
import {EventData} from "./libraries/EventData.sol";

/**
 * @title StatusRegistry
 * @notice On-chain anchor of the mobile-ID status tree. See {IStatusRegistry}.
 * @dev Roles: DEFAULT_ADMIN_ROLE (the consortium) grants roles, pauses and approves corrections; it
 * is held by one account and handed over in two steps with a delay (AccessControlDefaultAdminRules).
 * PUBLISHER_ROLE anchors; WITNESS_ROLE attests roots its holder's own replay reproduced. ISSUER_ROLE
 * and OPERATOR_ROLE are not used by this contract's functions but live here so that the service and
 * auditors read, from the chain, which keys may sign which events at any block. The publisher's key
 * may hold no other of these roles (the one key that anchors must not also sign events or vouch).
 */
contract StatusRegistry is IStatusRegistry, AccessControlDefaultAdminRules, Pausable {
    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant WITNESS_ROLE = keccak256("WITNESS_ROLE");

    /// @notice Most batches one correction may strike: bounds its gas (one storage write each).
    uint64 public constant MAX_STRUCK_BATCHES = 256;

    /// @dev Per-root record; one storage slot. supersededAt is derived from the next batch;
    /// struckBy is the correction batch that declared this root not the registry's (0: never).
    struct RootRecord {
        uint64 batch;
        uint64 anchoredAt;
        uint64 anchoredBlock;
        uint64 struckBy;
    }

    /// @dev The admin's standing approval of a correction: batches base+1..through are struck.
    struct Correction {
        uint64 base;
        uint64 through;
    }

    uint8 private immutable _depth;
    uint64 private _latestBatch;
    mapping(uint64 batch => bytes32 statusRoot) private _statusRoots;
    mapping(bytes32 statusRoot => RootRecord) private _rootRecords;
    Correction private _approvedCorrection;
    /// @dev When the current root was last confirmed: its anchor, or the publisher's latest heartbeat.
    uint64 private _confirmedAt;
    uint64 private _confirmedBlock;
    mapping(bytes32 statusRoot => uint32 witnesses) private _attestationCounts;
    mapping(bytes32 statusRoot => mapping(address witness => bool)) private _attestedBy;

    /**
     * @param admin receives DEFAULT_ADMIN_ROLE
     * @param depth status-tree depth, 1..64 (32 gives 4.29 billion slots)
     * @param adminDelay seconds between the start of an admin transfer and its earliest acceptance
     */
    constructor(
        address admin,
        uint8 depth,
        uint48 adminDelay
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (depth == 0 || depth > 64) revert StatusRegistryInvalidDepth(depth);
        _depth = depth;
        _record(0, StatusTree.emptyRoot(depth));
    }

    /// @inheritdoc IStatusRegistry
    function anchor(
        uint64 batch,
        bytes32 previousRoot,
        bytes32 statusRoot,
        bytes32 eventRoot,
        uint32 eventCount,
        bytes calldata eventData
    ) external onlyRole(PUBLISHER_ROLE) whenNotPaused {
        _anchor(batch, previousRoot, statusRoot, eventRoot, eventCount, eventData);
    }

    /// @inheritdoc IStatusRegistry
    function heartbeat(uint64 batch, bytes32 statusRoot) external onlyRole(PUBLISHER_ROLE) whenNotPaused {
        uint64 latest = _latestBatch;
        bytes32 current = _statusRoots[latest];
        if (batch != latest || statusRoot != current) revert StatusRegistryNotCurrent(latest, current);
        _confirm();
        emit RootConfirmed(batch, statusRoot);
    }

    /// @inheritdoc IStatusRegistry
    function currentRoot()
        external
        view
        returns (bytes32 statusRoot, uint64 batch, uint64 confirmedAt, uint64 confirmedBlock, bool isPaused)
    {
        batch = _latestBatch;
        return (_statusRoots[batch], batch, _confirmedAt, _confirmedBlock, paused());
    }

    /// @inheritdoc IStatusRegistry
    function attest(uint64 batch, bytes32 statusRoot) external onlyRole(WITNESS_ROLE) {
        if (batch > _latestBatch) revert StatusRegistryUnknownBatch(batch);
        bytes32 anchored = _statusRoots[batch];
        if (statusRoot != anchored) revert StatusRegistryNotAnchoredAs(batch, anchored);
        _checkUsable(statusRoot);
        if (_attestedBy[statusRoot][msg.sender]) revert StatusRegistryAlreadyAttested(statusRoot, msg.sender);
        _attestedBy[statusRoot][msg.sender] = true;
        uint32 count = _attestationCounts[statusRoot] + 1;
        _attestationCounts[statusRoot] = count;
        emit RootAttested(batch, statusRoot, msg.sender, count);
    }

    /// @inheritdoc IStatusRegistry
    function attestations(bytes32 root) external view returns (uint32) {
        return _attestationCounts[root];
    }

    /// @inheritdoc IStatusRegistry
    function hasAttested(bytes32 root, address witness) external view returns (bool) {
        return _attestedBy[root][witness];
    }

    /// @inheritdoc IStatusRegistry
    function approveCorrection(uint64 base) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint64 latest = _latestBatch;
        bool strikesSome = base < latest;
        if (!strikesSome || latest - base > MAX_STRUCK_BATCHES) revert StatusRegistryInvalidCorrection(base, latest);
        _approvedCorrection = Correction(base, latest);
        emit CorrectionApproved(base, latest, msg.sender);
    }

    /// @inheritdoc IStatusRegistry
    function approvedCorrection() external view returns (uint64 base, uint64 through) {
        Correction memory approved = _approvedCorrection;
        return (approved.base, approved.through);
    }

    /// @inheritdoc IStatusRegistry
    function anchorCorrection(
        uint64 batch,
        bytes32 previousRoot,
        bytes32 statusRoot,
        bytes32 eventRoot,
        uint32 eventCount,
        bytes calldata eventData
    ) external onlyRole(PUBLISHER_ROLE) whenNotPaused {
        Correction memory approved = _approvedCorrection;
        if (approved.through == 0) revert StatusRegistryNoCorrectionApproved();
        if (approved.through != _latestBatch) revert StatusRegistryCorrectionOutdated(approved.through, _latestBatch);
        delete _approvedCorrection;
        for (uint64 struck = approved.base + 1; struck < approved.through + 1; ++struck) {
            _rootRecords[_statusRoots[struck]].struckBy = batch;
        }
        _anchor(batch, previousRoot, statusRoot, eventRoot, eventCount, eventData);
        emit BatchCorrected(batch, approved.base, approved.through);
    }

    /// @inheritdoc IStatusRegistry
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc IStatusRegistry
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @inheritdoc IStatusRegistry
    function treeDepth() external view returns (uint8) {
        return _depth;
    }

    /// @inheritdoc IStatusRegistry
    function latestBatch() external view returns (BatchInfo memory) {
        return _info(_statusRoots[_latestBatch]);
    }

    /// @inheritdoc IStatusRegistry
    function batchInfo(uint64 batch) external view returns (BatchInfo memory) {
        if (batch > _latestBatch) revert StatusRegistryUnknownBatch(batch);
        return _info(_statusRoots[batch]);
    }

    /// @inheritdoc IStatusRegistry
    function rootInfo(bytes32 root) external view returns (BatchInfo memory) {
        _checkUsable(root);
        return _info(root);
    }

    /// @inheritdoc IStatusRegistry
    function computeStatusRoot(StatusRecord calldata record, bytes32[] calldata proof) external view returns (bytes32) {
        return StatusTree.computeRoot(record, proof, _depth);
    }

    /// @inheritdoc IStatusRegistry
    function verifyStatus(
        bytes32 root,
        StatusRecord calldata record,
        bytes32[] calldata proof
    ) external view returns (Status) {
        _checkUsable(root);
        return _provenStatus(root, record, proof);
    }

    /// @inheritdoc IStatusRegistry
    function verifyCurrentStatus(
        bytes32 root,
        StatusRecord calldata record,
        bytes32[] calldata proof,
        uint64 maxAge,
        uint32 minWitnesses
    ) external view whenNotPaused returns (Status) {
        _checkUsable(root);
        RootRecord memory rec = _rootRecords[root];
        // a current root vouches until its last confirmation; a superseded one until it was replaced
        uint64 vouchedUntil = rec.batch == _latestBatch
            ? _confirmedAt
            : _rootRecords[_statusRoots[rec.batch + 1]].anchoredAt;
        if (block.timestamp - vouchedUntil > maxAge) revert StatusRegistryRootTooOld(root, vouchedUntil, maxAge);
        uint32 witnesses = _attestationCounts[root];
        if (witnesses < minWitnesses) revert StatusRegistryNotWitnessed(root, witnesses, minWitnesses);
        return _provenStatus(root, record, proof);
    }

    function _anchor(
        uint64 batch,
        bytes32 previousRoot,
        bytes32 statusRoot,
        bytes32 eventRoot,
        uint32 eventCount,
        bytes calldata eventData
    ) private {
        uint64 latest = _latestBatch;
        if (batch != latest + 1) revert StatusRegistryUnexpectedBatch(latest + 1, batch);
        bytes32 current = _statusRoots[latest];
        if (previousRoot != current) revert StatusRegistryPreviousRootMismatch(current, previousRoot);
        if (statusRoot == 0 || eventRoot == 0) revert StatusRegistryZeroRoot();
        if (eventCount == 0 || eventData.length == 0) revert StatusRegistryEmptyBatch(eventCount, eventData.length);
        RootRecord storage existing = _rootRecords[statusRoot];
        if (existing.anchoredAt != 0) revert StatusRegistryRootAlreadyAnchored(statusRoot, existing.batch);

        _record(batch, statusRoot);
        emit BatchAnchored(batch, statusRoot, previousRoot, eventRoot, eventCount, EventData.hash(eventData));
    }

    /// @dev The publisher's key holds no other role (the admin's included): an account cannot be granted both.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == PUBLISHER_ROLE) {
            _refuseHeld(account, role, DEFAULT_ADMIN_ROLE);
            _refuseHeld(account, role, ISSUER_ROLE);
            _refuseHeld(account, role, OPERATOR_ROLE);
            _refuseHeld(account, role, WITNESS_ROLE);
        } else {
            _refuseHeld(account, role, PUBLISHER_ROLE);
        }
        return super._grantRole(role, account);
    }

    function _refuseHeld(address account, bytes32 role, bytes32 held) private view {
        if (hasRole(held, account)) revert StatusRegistryRoleConflict(account, role, held);
    }

    function _record(uint64 batch, bytes32 statusRoot) private {
        _latestBatch = batch;
        _statusRoots[batch] = statusRoot;
        _rootRecords[statusRoot] = RootRecord(batch, uint64(block.timestamp), uint64(block.number), 0);
        _confirm();
    }

    function _confirm() private {
        _confirmedAt = uint64(block.timestamp);
        _confirmedBlock = uint64(block.number);
    }

    function _provenStatus(
        bytes32 root,
        StatusRecord calldata record,
        bytes32[] calldata proof
    ) private view returns (Status) {
        bytes32 computed = StatusTree.computeRoot(record, proof, _depth);
        if (computed != root) revert StatusRegistryProofMismatch(root, computed);
        return record.status;
    }

    /// @dev A root a verifier may rely on: anchored, and not struck by a correction.
    function _checkUsable(bytes32 root) private view {
        RootRecord memory rec = _rootRecords[root];
        if (rec.anchoredAt == 0) revert StatusRegistryUnknownRoot(root);
        if (rec.struckBy != 0) revert StatusRegistryRootStruck(root, rec.struckBy);
    }

    function _info(bytes32 root) private view returns (BatchInfo memory info) {
        RootRecord memory rec = _rootRecords[root];
        info = BatchInfo(root, rec.batch, rec.anchoredAt, rec.anchoredBlock, 0);
        if (rec.batch < _latestBatch) info.supersededAt = _rootRecords[_statusRoots[rec.batch + 1]].anchoredAt;
    }
}
