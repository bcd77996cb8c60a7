// Moved: the wire format lives in src/shared/ (imported by src/ and workers/ alike).
export * from './shared/protocol.js';
