// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title EventData
 * @notice Hash of a batch's event data (docs/spec.md, "Event data hash"): a chain over 8 KiB chunks,
 * h = keccak256(h || chunk) from h = 0. Hashing the whole calldata at once would copy it into memory,
 * whose cost grows quadratically (about 1.9M gas for 1 MB); a fixed-size window keeps it linear.
 */
library EventData {
    uint256 internal constant CHUNK = 8192;

    function hash(bytes calldata data) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let offset := data.offset
            let end := add(offset, data.length)
            for {} lt(offset, end) {} {
                let len := sub(end, offset)
                if gt(len, CHUNK) {
                    len := CHUNK
                }
                mstore(ptr, h)
                calldatacopy(add(ptr, 32), offset, len)
                h := keccak256(ptr, add(32, len))
                offset := add(offset, len)
            }
        }
    }
}
