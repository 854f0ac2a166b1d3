import type { BodyPosition } from '../errors.ts';

/** The 1-based line and column of `index` in `text`, computed only when an error needs it. */
export function positionOf(text: string, index: number): BodyPosition {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

/** `line L, column C`, as error messages say it. */
export function describePosition(position: BodyPosition): string {
  return `line ${position.line}, column ${position.column}`;
}
