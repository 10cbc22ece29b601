// Typed errors. Messages name the field and the rule that failed, never the
// bytes or the identifier that failed it: errors end up in logs and problem
// documents, and the coordinator must not learn identifiers from them.

export type DecodeReason = 'length' | 'non-canonical' | 'identity' | 'zero-scalar' | 'out-of-range';

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly field: string,
    readonly reason: DecodeReason,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

export class ProofError extends Error {
  override readonly name = 'ProofError';
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
