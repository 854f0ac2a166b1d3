/** Bounds every decoder enforces, so that no body can make a callback slow or large in memory. */
export const DECODE_LIMITS = {
  /** Deepest nesting of objects and arrays (JSON), or elements (XML). Real callbacks stay under 10. */
  maxDepth: 64,
  /** Most keys in a form body. Real form callbacks carry at most 4. */
  maxFormFields: 256,
} as const;
