/** Thrown when a Raft invariant does not hold: the process state is wrong and must not go on. */
export class RaftInvariantError extends Error {
  override name = 'RaftInvariantError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RaftInvariantError(message);
}
