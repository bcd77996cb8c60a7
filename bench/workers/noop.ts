// A raw piscina/tinypool worker that does nothing: dispatch cost alone.
export default function noop(): number {
  return 0;
}
