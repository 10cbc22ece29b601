// The protocol's name on the wire, apart from the contract's schemas so a
// command that only prints it (`--version`) does not load them.

/** What `GET /` names as the protocol in use (protocol/SPEC.md §8.1); a client refuses a coordinator naming another. */
export const PROTOCOL_NAME = 'concordat-v2';
