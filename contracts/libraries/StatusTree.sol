// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IStatusRegistry} from "../interfaces/IStatusRegistry.sol";

/**
 * @title StatusTree
 * @notice Hashing of the fixed-depth, position-bound status tree (docs/spec.md, "Status tree").
 * Leaves and inner nodes use distinct one-byte domain prefixes, so an inner node can never be
 * passed off as a leaf; an unused slot holds EMPTY_LEAF (zero), which no record hashes to.
 */
library StatusTree {
    bytes1 internal constant LEAF_PREFIX = 0x00;
    bytes1 internal constant NODE_PREFIX = 0x01;
    bytes32 internal constant EMPTY_LEAF = bytes32(0);
    /// @dev The highest reason code the spec defines (ADMINISTRATIVE); a higher one is a malformed record.
    uint8 internal constant MAX_REASON = 5;

    /// @dev keccak256(0x00 || canonical record), or EMPTY_LEAF for a well-formed unused slot.
    function leafHash(IStatusRegistry.StatusRecord calldata record) internal pure returns (bytes32) {
        if (record.reason > MAX_REASON) revert IStatusRegistry.StatusRegistryMalformedRecord(record.index);
        if (record.status == IStatusRegistry.Status.NONE) {
            if (
                record.credentialCommitment != 0 || record.deviceKeyHash != 0 || record.reason != 0 || record.batch != 0
            ) revert IStatusRegistry.StatusRegistryMalformedRecord(record.index);
            return EMPTY_LEAF;
        }
        return
            keccak256(
                abi.encodePacked(
                    LEAF_PREFIX,
                    record.index,
                    record.credentialCommitment,
                    record.deviceKeyHash,
                    uint8(record.status),
                    record.reason,
                    record.batch
                )
            );
    }

    /// @dev keccak256(0x01 || left || right), hashed in scratch memory past the free pointer.
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            mstore(add(ptr, 1), left)
            mstore(add(ptr, 33), right)
            hash := keccak256(ptr, 65)
        }
    }

    /// @dev Root of the tree of `depth` levels holding only empty slots.
    function emptyRoot(uint8 depth) internal pure returns (bytes32 node) {
        node = EMPTY_LEAF;
        for (uint256 level; level < depth; ++level) node = nodeHash(node, node);
    }

    /**
     * @dev Walks from the leaf up: bit `level` of the index says whether the node at that level is a
     * right (1) or left (0) child, so each index has exactly one slot.
     */
    function computeRoot(
        IStatusRegistry.StatusRecord calldata record,
        bytes32[] calldata proof,
        uint8 depth
    ) internal pure returns (bytes32 node) {
        if (proof.length != depth) revert IStatusRegistry.StatusRegistryInvalidProofLength(depth, proof.length);
        uint64 index = record.index;
        if (depth < 64 && index >> depth != 0) revert IStatusRegistry.StatusRegistryIndexOutOfRange(index, depth);
        node = leafHash(record);
        for (uint256 level; level < depth; ++level) {
            node = (index >> level) & 1 == 0 ? nodeHash(node, proof[level]) : nodeHash(proof[level], node);
        }
    }
}
