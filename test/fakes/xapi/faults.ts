/** An XAPI failure as the server sends it: an error code and its string parameters (datamodel_errors.ml). */
export class XapiFault extends Error {
  constructor(readonly code: string, readonly params: string[] = []) {
    super(`${code}(${params.join(', ')})`);
  }
}

/** A planned failure: the next task of `method` ("VM.pool_migrate") fails once it reaches `atProgress`. */
export interface TaskFailure {
  method: string;
  atProgress: number;
  error: string[];
}
