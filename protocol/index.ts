// Concordat PSI v1 and v2 (SPEC.md §8): the protocol library. Pure bytes-in/bytes-out code; see SPEC.md.
export * from './bytes.js';
export * from './constants.js';
export * from './errors.js';
export * from './group.js';
export * from './hash-to-group.js';
export * from './keys.js';
export * from './evaluate.js';
export * from './token.js';
export * from './dleq.js';
export * from './rng.js';
export * from './identifiers/index.js';
export * from './engine/index.js';
export * from './query.js';
export * from './http-signature.js';
// Concordat PSI v2 (SPEC.md §8): keys and signed structures.
export * from './canonical.js';
export * from './signed.js';
export * from './agreement.js';
export * from './ratchet.js';
export * from './pair-key.js';
export * from './epoch-key.js';
export * from './manifest.js';
export * from './signed-query.js';
export * from './hit-evidence.js';
