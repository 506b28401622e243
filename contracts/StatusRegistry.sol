// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IStatusRegistry} from "./interfaces/IStatusRegistry.sol";
import {StatusTree} from "./libraries/StatusTree.sol";
import {EventData} from "./libraries/EventData.sol";

/**
 * @title StatusRegistry
 * @notice On-chain anchor of the mobile-ID status tree. See {IStatusRegistry}.
 * @dev Roles: DEFAULT_ADMIN_ROLE (the consortium) grants roles and pauses; PUBLISHER_ROLE anchors;
 * ISSUER_ROLE and OPERATOR_ROLE are not used by this contract's functions but live here so that
 * the service and auditors read, from the chain, which keys may sign which events at any block.
 */
contract StatusRegistry is IStatusRegistry, AccessControl, Pausable {
    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    /// @dev Per-root record; one storage slot. supersededAt is derived from the next batch.
    struct RootRecord {
        uint64 batch;
        uint64 anchoredAt;
        uint64 anchoredBlock;
    }

    uint8 private immutable _depth;
    uint64 private _latestBatch;
    mapping(uint64 batch => bytes32 statusRoot) private _statusRoots;
    mapping(bytes32 statusRoot => RootRecord) private _rootRecords;

    /**
     * @param admin receives DEFAULT_ADMIN_ROLE
     * @param depth status-tree depth, 1..64 (32 gives 4.29 billion slots)
     */
    constructor(address admin, uint8 depth) {
        if (depth == 0 || depth > 64) revert StatusRegistryInvalidDepth(depth);
        _depth = depth;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
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
        if (_rootRecords[root].anchoredAt == 0) revert StatusRegistryUnknownRoot(root);
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
        if (_rootRecords[root].anchoredAt == 0) revert StatusRegistryUnknownRoot(root);
        bytes32 computed = StatusTree.computeRoot(record, proof, _depth);
        if (computed != root) revert StatusRegistryProofMismatch(root, computed);
        return record.status;
    }

    function _record(uint64 batch, bytes32 statusRoot) private {
        _latestBatch = batch;
        _statusRoots[batch] = statusRoot;
        _rootRecords[statusRoot] = RootRecord(batch, uint64(block.timestamp), uint64(block.number));
    }

    function _info(bytes32 root) private view returns (BatchInfo memory info) {
        RootRecord memory rec = _rootRecords[root];
        info = BatchInfo(root, rec.batch, rec.anchoredAt, rec.anchoredBlock, 0);
        if (rec.batch < _latestBatch) info.supersededAt = _rootRecords[_statusRoots[rec.batch + 1]].anchoredAt;
    }
}
