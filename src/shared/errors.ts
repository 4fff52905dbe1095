/**
 * The one error type of Vigil. `code` is UPPER_SNAKE and namespaced by module
 * (`INGEST_PAYLOAD_INVALID`, `STORAGE_UNAVAILABLE`); the API error handler maps it to an
 * HTTP status and `{ "error": code, "detail": message }`.
 */
export class AppError extends Error {
  readonly code: string;
  /** True when the same request may succeed later (storage down, overload): answered 503. */
  readonly retryable: boolean;
  /** HTTP status the API answers with; defaults by `retryable`. */
  readonly httpStatus: number;

  constructor(code: string, message: string, options: { retryable?: boolean; httpStatus?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.httpStatus = options.httpStatus ?? (this.retryable ? 503 : 400);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
