import { Deserializer, Serializer } from 'node:v8';

// V8's own serializer, as structuredClone and postMessage use it. Not
// v8.serialize: Node's DefaultSerializer writes each typed array as a copy
// of its bytes, so views that shared an ArrayBuffer no longer do, and each
// comes back as a view into the whole stored blob (measured: a 2-byte
// DataView's .buffer held the entry's 125 bytes).

/** A structured-clonable value as bytes. Throws a DataCloneError for anything structured clone refuses. */
export function encodeValue(value: unknown): Buffer {
  const serializer = new Serializer();
  serializer.writeHeader();
  serializer.writeValue(value);
  return serializer.releaseBuffer();
}

/** The value `encodeValue` wrote. Throws for bytes it did not write. */
export function decodeValue(bytes: Uint8Array): unknown {
  const deserializer = new Deserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}
