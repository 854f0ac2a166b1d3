/** Bounds every decoder enforces, so that no body can make a callback slow or large in memory. */
export const DECODE_LIMITS = {
  /** Deepest nesting of objects and arrays (JSON), or elements (XML). Real callbacks stay under 10. */
  maxDepth: 64,
  /** Most keys in a form body. Real form callbacks carry at most 4. */
  maxFormFields: 256,
  /**
   * Most keys in one JSON object, or different child element names in one XML element. Real
   * callbacks have at most about 60 (a CI media info stream); a body of a million different names
   * costs seconds and hundreds of MB to read.
   */
  maxKeys: 1_000,
  /**
   * Most objects and arrays (JSON) or elements (XML) in one body. A real callback has a few dozen;
   * the largest seen, a 30-minute speech recognition result (446 KB), has 16,000 elements, so a
   * 6 MB one would have about 230,000. Six MB of `{},` are two million objects, which V8 takes
   * 270 MB to parse.
   */
  maxNodes: 500_000,
} as const;
