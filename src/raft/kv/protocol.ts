/** The KV client protocol: msgpack frames (framing.ts) carrying one request or response each. */
export type KvOp = 'get' | 'put' | 'append';

export interface KvRequest {
  id: number;
  op: KvOp;
  key: string;
  /** put / append only. */
  value?: string;
}

export type KvErrorCode =
  /** This node is not the leader; `leader` names it when known. Nothing was proposed. */
  | 'not_leader'
  /** Refused before proposing (queue full, shutting down). Nothing was proposed. */
  | 'unavailable'
  /** Proposed but the outcome is unknown: it may or may not take effect. */
  | 'timeout'
  | 'bad_request';

export interface KvResponse {
  id: number;
  ok: boolean;
  /** get: the value ("" when absent). */
  value?: string;
  error?: KvErrorCode;
  leader?: string;
  message?: string;
}

/** Whether a failed request might still have taken effect (history type `info` vs `fail`). */
export function mayHaveApplied(error: KvErrorCode | undefined): boolean {
  return error === 'timeout' || error === undefined;
}
