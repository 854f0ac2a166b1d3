/**
 * Objects for data read from a body, whose keys are whatever the sender wrote.
 *
 * Every key is plain own data: `__proto__`, `constructor` or `toString` become own properties, and a
 * key that is absent reads as undefined, never as something inherited. That is what
 * `Object.create(null)` gives, but V8 makes such an object a dictionary from the start (192 bytes
 * for one key, and slow to fill): the 1.5 million elements of a 6 MB body took 290 MB. These are
 * made by a constructor whose prototype is an empty object without a prototype: nothing can be
 * inherited or set through a prototype, and V8 keeps them in its fast layout (40 bytes for one key).
 */
export interface PlainData<T> {
  [key: string]: T;
}

/**
 * The class of plain data (see the module comment). Its prototype is emptied below: no
 * `constructor`, no prototype of its own, so an instance inherits nothing.
 */
class PlainDataObject<T> {
  [key: string]: T;
}
Reflect.deleteProperty(PlainDataObject.prototype, 'constructor');
Object.setPrototypeOf(PlainDataObject.prototype, null);
Object.freeze(PlainDataObject.prototype);

/** A new, empty object for data from a body (see the module comment). */
export function plainData<T>(): PlainData<T> {
  return new PlainDataObject<T>();
}

/** Whether a value is an object made by {@link plainData}. */
export function isPlainData(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === PlainDataObject.prototype;
}
